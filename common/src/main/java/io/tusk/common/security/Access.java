package io.tusk.common.security;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Decides what a principal may do, from the configured admins and the role bindings; never blocks.
 *
 * <p>The rules: an admin (a subject in {@code TUSK_AUTH_ADMINS}, or bound {@code admin} on the
 * cluster) may do everything. Otherwise a role held on a resource grants the roles it includes
 * (owner includes writer, writer includes reader); the content right is only ever granted
 * explicitly. A repo derived from a pipeline's outputs ({@code <pipeline>-by-<key>}) belongs to
 * that pipeline: every role held on the pipeline holds on the derived repo too, so the creator of a
 * pipeline (its owner) owns its derived repos without a binding of their own.
 */
public final class Access {
  private final boolean enabled;
  private final Set<String> admins;
  private final RoleBindings bindings;
  private final Function<String, Optional<String>> sourcePipelineOf;

  /**
   * @param config whether authentication is on, and the admin subjects
   * @param bindings the role bindings view
   * @param sourcePipelineOf the pipeline a repo is derived from (empty for a repo of its own or an
   *     unknown one); reads an in-memory view
   */
  public Access(
      AuthConfig config,
      RoleBindings bindings,
      Function<String, Optional<String>> sourcePipelineOf) {
    this.enabled = Objects.requireNonNull(config, "config").enabled();
    this.admins = config.admins();
    this.bindings = Objects.requireNonNull(bindings, "bindings");
    this.sourcePipelineOf = Objects.requireNonNull(sourcePipelineOf, "sourcePipelineOf");
  }

  /** True if {@code principal} may do everything. */
  public boolean isAdmin(Principal principal) {
    return !enabled
        || admins.contains(principal.subject())
        || bindings.rolesOf(principal.subject(), Resource.CLUSTER).contains(Role.ADMIN);
  }

  /** True if {@code principal} holds {@code role} (or a role including it) on {@code resource}. */
  public boolean has(Principal principal, Role role, Resource resource) {
    if (isAdmin(principal)) {
      return true;
    }
    if (role == Role.ADMIN) {
      return false;
    }
    if (holds(principal, role, resource)) {
      return true;
    }
    if (resource.kind() == Resource.Kind.REPO) {
      Optional<String> pipeline = sourcePipelineOf.apply(resource.name());
      return pipeline.isPresent() && holds(principal, role, Resource.pipeline(pipeline.get()));
    }
    return false;
  }

  /** True if {@code principal} may read {@code resource}: what lists show each caller. */
  public boolean canRead(Principal principal, Resource resource) {
    return has(principal, Role.READER, resource);
  }

  /** The role bindings this decides from. */
  public RoleBindings bindings() {
    return bindings;
  }

  private boolean holds(Principal principal, Role role, Resource resource) {
    for (Role held : bindings.rolesOf(principal.subject(), resource)) {
      if (held.includes(role)) {
        return true;
      }
    }
    return false;
  }
}
