package io.tusk.cli.completion;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The bash completion script of {@code tusk}: picocli's script for the command tree (commands,
 * subcommands, options, enum values, files), wrapped by a small function that completes repo,
 * branch and pipeline arguments with names from the running services.
 *
 * <p>Why a wrapper: picocli's {@code completionCandidates} are fixed when the script is written,
 * and names change all the time. The wrapper ({@code _tusk_complete}) finds the command path and
 * which argument the cursor is on; when the tables below say that argument is a repo, branch or
 * pipeline it asks {@code tusk __complete} ({@link NamesCommand}) for the names, otherwise it hands
 * over to picocli's {@code _complete_tusk}. Which arguments are names comes from the command tree
 * itself: a positional parameter labelled {@code <repo>}, {@code <pipeline>} or {@code <branch>} (a
 * branch of the command's {@code <repo>}), and the options {@code --repo} and {@code --branch}.
 * After {@code tusk help} it completes command names, nested ({@code tusk help repo <TAB>}).
 */
public final class CompletionScript {
  private static final String PICOCLI_REGISTRATION =
      "complete -F _complete_tusk -o default tusk tusk.sh tusk.bash";

  /** Service options given on the line being completed are passed on to {@code __complete}. */
  private static final List<String> SERVICE_OPTIONS =
      List.of("--commit-url", "--lineage-url", "--token", "--ca-file");

  private CompletionScript() {}

  /** The bash script (zsh runs it through bashcompinit) for {@code tusk}, the root command. */
  public static String bash(CommandLine tusk) {
    String picocli = AutoComplete.bash("tusk", tusk);
    if (!picocli.contains(PICOCLI_REGISTRATION)) {
      // A picocli upgrade renamed its function: the wrapper would call nothing.
      throw new IllegalStateException(
          "picocli's completion script has no '" + PICOCLI_REGISTRATION + "'");
    }
    Map<String, CommandSpec> commands = new LinkedHashMap<>();
    collect(tusk, "", commands);
    return picocli.replace(PICOCLI_REGISTRATION, "") + wrapper(commands);
  }

  private static void collect(CommandLine command, String path, Map<String, CommandSpec> paths) {
    command
        .getSubcommands()
        .forEach(
            (name, sub) -> {
              if (!name.equals(sub.getCommandName())
                  || sub.getCommandSpec().usageMessage().hidden()) {
                return;
              }
              String subPath = path.isEmpty() ? name : path + " " + name;
              paths.put(subPath, sub.getCommandSpec());
              collect(sub, subPath, paths);
            });
  }

  /**
   * What the argument at {@code slot} (a positional index or an option name) of a command names:
   * "repos", "pipelines", or "branches N" (branches of the repo at positional index N).
   */
  static Map<String, String> slots(String path, CommandSpec command) {
    Map<String, String> slots = new LinkedHashMap<>();
    Optional<Integer> repoIndex =
        command.positionalParameters().stream()
            .filter(p -> p.paramLabel().equals("<repo>"))
            .map(p -> p.index().min())
            .findFirst();
    for (PositionalParamSpec p : command.positionalParameters()) {
      kind(p.paramLabel().replaceAll("[<>]", ""), repoIndex)
          .ifPresent(kind -> slots.put(path + "|" + p.index().min(), kind));
    }
    for (OptionSpec o : command.options()) {
      if (o.arity().max() > 0 && o.longestName().startsWith("--")) {
        kind(o.longestName().substring(2), repoIndex)
            .ifPresent(kind -> slots.put(path + "|" + o.longestName(), kind));
      }
    }
    return slots;
  }

  private static Optional<String> kind(String name, Optional<Integer> repoIndex) {
    return switch (name) {
      case "repo" -> Optional.of("repos");
      case "pipeline" -> Optional.of("pipelines");
      case "context" -> Optional.of("contexts");
      case "branch" -> repoIndex.map(index -> "branches " + index);
      default -> Optional.empty();
    };
  }

  private static String wrapper(Map<String, CommandSpec> commands) {
    StringBuilder isCommand = new StringBuilder();
    StringBuilder argOptions = new StringBuilder();
    StringBuilder slots = new StringBuilder();
    // The subcommands of each command path ("" for tusk itself), for `tusk help <TAB>`.
    Map<String, List<String>> children = new LinkedHashMap<>();
    commands
        .keySet()
        .forEach(
            path -> {
              int space = path.lastIndexOf(' ');
              String parent = space < 0 ? "" : path.substring(0, space);
              children
                  .computeIfAbsent(parent, p -> new java.util.ArrayList<>())
                  .add(path.substring(space + 1));
            });
    StringBuilder subcommands = new StringBuilder();
    children.forEach(
        (parent, names) ->
            subcommands
                .append("    \"")
                .append(parent)
                .append("\") echo \"")
                .append(String.join(" ", names))
                .append("\" ;;\n"));
    commands.forEach(
        (path, spec) -> {
          isCommand.append("    \"").append(path).append("\") return 0 ;;\n");
          TreeSet<String> withArgument = new TreeSet<>();
          for (OptionSpec o : spec.options()) {
            if (o.arity().max() > 0) {
              withArgument.addAll(List.of(o.names()));
            }
          }
          if (!withArgument.isEmpty()) {
            argOptions
                .append("    \"")
                .append(path)
                .append("\") echo \"")
                .append(String.join(" ", withArgument))
                .append("\" ;;\n");
          }
          slots(path, spec)
              .forEach(
                  (slot, kind) ->
                      slots
                          .append("    \"")
                          .append(slot)
                          .append("\") echo \"")
                          .append(kind)
                          .append("\" ;;\n"));
        });
    return WRAPPER
        .replace("@IS_COMMAND@", isCommand)
        .replace("@ARG_OPTIONS@", argOptions)
        .replace("@SLOTS@", slots)
        .replace("@SUBCOMMANDS@", subcommands)
        .replace("@SERVICE_OPTIONS@", String.join("|", SERVICE_OPTIONS))
        .replace("@NAMES@", NamesCommand.NAME)
        .replace("@TIMEOUT_VARIABLE@", NamesCommand.TIMEOUT_VARIABLE);
  }

  private static final String WRAPPER =
      """

      # ---------------------------------------------------------------------------------------
      # Names from the running services (written by tusk around picocli's script above).
      # _tusk_complete finds the command path (`branch move`) and the argument under the cursor;
      # when that argument is a repo, branch or pipeline, the names come from `tusk __complete`
      # (nothing when the services cannot be reached within about a second); everything else is
      # picocli's _complete_tusk.

      # Succeeds when "$1" is a command path of tusk.
      function _tusk_is_command() {
        case "$1" in
      @IS_COMMAND@  esac
        return 1
      }

      # The options of command path "$1" that take a value.
      function _tusk_arg_options() {
        case "$1" in
      @ARG_OPTIONS@  esac
      }

      # The subcommands of command path "$1" ("": the commands of tusk).
      function _tusk_subcommands() {
        case "$1" in
      @SUBCOMMANDS@  esac
      }

      # What "$1|$2" (command path|positional index or option) names: repos, pipelines, or
      # "branches N" (branches of the repo given as positional N); nothing for anything else.
      function _tusk_slot() {
        case "$1|$2" in
      @SLOTS@  esac
      }

      # The names (one a line) from the services, through the same tusk being completed. It gets
      # about a second for the services; $@TIMEOUT_VARIABLE@ (seconds) gives more on slow links.
      function _tusk_names() {
        local tusk=${COMP_WORDS[0]} seconds=3
        tusk=${tusk/#\\~/$HOME}
        [[ "${@TIMEOUT_VARIABLE@}" =~ ^[1-9][0-9]{0,3}$ ]] && seconds=$(( @TIMEOUT_VARIABLE@ + 2 ))
        if command -v timeout >/dev/null 2>&1; then
          timeout "$seconds" "$tusk" @NAMES@ "$@" 2>/dev/null
        else
          "$tusk" @NAMES@ "$@" 2>/dev/null
        fi
      }

      function _tusk_complete() {
        local cword=$COMP_CWORD cur=${COMP_WORDS[COMP_CWORD]}
        # `tusk help [COMMAND ...] <TAB>`: the commands under the ones already given.
        if [[ "${COMP_WORDS[1]}" == help ]] && (( cword >= 2 )) && [[ "$cur" != -* ]]; then
          local under="" j=2
          type compopt &>/dev/null && compopt +o default
          while (( j < cword )); do
            _tusk_is_command "${under:+$under }${COMP_WORDS[j]}" || return 0
            under="${under:+$under }${COMP_WORDS[j]}"
            ((j++))
          done
          COMPREPLY=( $(compgen -W "$(_tusk_subcommands "$under")" -- "$cur") )
          return 0
        fi
        local path="" next i=1
        while (( i < cword )); do
          next="${path:+$path }${COMP_WORDS[i]}"
          _tusk_is_command "$next" || break
          path=$next
          ((i++))
        done
        if [[ -n "$path" && "$cur" != -* ]]; then
          local options=" $(_tusk_arg_options "$path") " word pending="" slot=""
          local -a positionals=() service=()
          while (( i < cword )); do
            word=${COMP_WORDS[i]}
            ((i++))
            if [[ -n "$pending" ]]; then
              # bash splits --option=value at the '=' (COMP_WORDBREAKS)
              [[ "$word" == "=" ]] && continue
              case "$pending" in
                @SERVICE_OPTIONS@) service+=("$pending" "$word") ;;
              esac
              pending=""
            elif [[ "$word" == -* ]]; then
              [[ "$options" == *" $word "* ]] && pending=$word
            else
              positionals+=("$word")
            fi
          done
          if [[ -n "$pending" ]]; then
            slot=$(_tusk_slot "$path" "$pending")
          else
            slot=$(_tusk_slot "$path" "${#positionals[@]}")
          fi
          if [[ -n "$slot" ]]; then
            local kind=${slot%% *} repo=""
            [[ "$slot" == *" "* ]] && repo=${positionals[${slot#* }]}
            type compopt &>/dev/null && compopt +o default
            [[ "$kind" == branches && -z "$repo" ]] && return 0
            local IFS=$'\\n'
            COMPREPLY=( $(compgen -W "$(_tusk_names "${service[@]}" "$kind" ${repo:+"$repo"})" -- "$cur") )
            return 0
          fi
        fi
        _complete_tusk "$@"
      }

      complete -F _tusk_complete -o default tusk tusk.sh tusk.bash
      """;
}
