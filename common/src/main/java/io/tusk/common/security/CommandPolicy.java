package io.tusk.common.security;

import io.tusk.common.config.ConfigKey;
import io.tusk.common.http.ApiException;
import io.tusk.schemas.PipelineSpec;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Which executables a pipeline created by a non-admin may run: a command or worker transform and an
 * {@code errCmd} run only if their first word is in the operator's allow list ({@link
 * #ALLOWED_COMMANDS}); an admin may create any. Java transforms are classes the operator put on the
 * processors' class path, so they need no entry.
 *
 * <p>Entries match the command's first word exactly: {@code python3} allows {@code [python3, ...]}
 * but not {@code [/tmp/x/python3, ...]}, and {@code /usr/bin/python3} only that path. An allowed
 * interpreter runs whatever script its arguments name: allow interpreters only where that is meant.
 * The check is made where specs are written (the commit service is the only principal with write
 * access to {@code tusk.pipelines}; see the README's Kafka ACLs).
 */
public final class CommandPolicy {
  /** The allow list, comma-separated executables. */
  public static final ConfigKey ALLOWED_COMMANDS =
      ConfigKey.optional(
          "TUSK_ALLOWED_COMMANDS",
          "",
          "Executables (first word of cmd and errCmd, matched exactly, comma-separated) that"
              + " pipelines created by non-admins may run; empty: only admins may create command"
              + " and worker transforms");

  private final Set<String> allowed;

  /** A policy allowing exactly {@code allowed}. */
  public CommandPolicy(Collection<String> allowed) {
    this.allowed = Set.copyOf(allowed);
  }

  /**
   * The first executable of {@code spec} that the allow list does not hold, if any.
   *
   * @return empty when every command of the spec may run (or it has none)
   */
  public Optional<String> refused(PipelineSpec spec) {
    List<String> cmd = spec.getTransform().getCmd();
    List<String> errCmd = spec.getErrCmd();
    return Stream.of(cmd, errCmd)
        .filter(command -> command != null && !command.isEmpty())
        .map(command -> command.get(0))
        .filter(executable -> !allowed.contains(executable))
        .findFirst();
  }

  /**
   * Refuses {@code spec} for {@code creator} unless it is an admin or every command is allowed.
   *
   * @throws ApiException 403 naming the executable and the key
   */
  public void check(PipelineSpec spec, Principal creator, Access access) {
    Optional<String> refused = refused(spec);
    if (refused.isPresent() && !access.isAdmin(creator)) {
      throw ApiException.forbidden(
          "the command '"
              + refused.get()
              + "' is not in "
              + ALLOWED_COMMANDS.name()
              + ": only an admin may create or update a pipeline that runs it");
    }
  }
}
