package io.tusk.cli.completion;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tusk completion bash|zsh}: prints the shell completion script of the whole command tree
 * ({@link CompletionScript}); repo, branch and pipeline names come from the running services.
 */
@Command(
    name = "completion",
    description = {
      "Print the shell completion script (commands, options, and repo, branch and pipeline names"
          + " from the running services).",
      "bash: `source <(tusk completion bash)` (in ~/.bashrc to keep it);"
          + " zsh: `source <(tusk completion zsh)` (in ~/.zshrc)."
    })
public final class CompletionCommand implements Callable<Integer> {
  /** The shells the script is written for. */
  public enum Shell {
    bash,
    zsh
  }

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "SHELL", description = "bash or zsh.")
  Shell shell;

  @Override
  public Integer call() {
    String script = CompletionScript.bash(spec.root().commandLine());
    if (shell == Shell.zsh) {
      // zsh runs bash completion functions through bashcompinit; picocli's script loads it (and
      // compinit, only if not loaded yet, so other completions stay registered) when
      // $ZSH_VERSION is set.
      script = "# tusk completion for zsh, through zsh's bash completion emulation.\n" + script;
    }
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
