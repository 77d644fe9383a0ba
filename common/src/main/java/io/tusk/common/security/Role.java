package io.tusk.common.security;

import java.util.Locale;

/**
 * A right on a resource, in Pachyderm's terms: {@link #READER} reads (specs, commits, jobs,
 * lineage, member queries, rejected rows without their bytes), {@link #WRITER} also seals, moves
 * branches and loads rows, {@link #OWNER} also updates, deletes and grants. {@link #CONTENT} is the
 * separate right to read row content (member rows, provenance with content, rejected bytes, datum
 * logs, outputs); it implies nothing else and nothing implies it but {@link #ADMIN}, which is every
 * right on everything (granted on the cluster only).
 */
public enum Role {
  READER,
  WRITER,
  OWNER,
  CONTENT,
  ADMIN;

  /** True if holding this role grants {@code needed}. */
  public boolean includes(Role needed) {
    if (this == ADMIN || this == needed) {
      return true;
    }
    return switch (needed) {
      case READER -> this == WRITER || this == OWNER;
      case WRITER -> this == OWNER;
      default -> false;
    };
  }

  /** The name used in the API, role bindings and messages: lower case. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The role named {@code label}.
   *
   * @throws IllegalArgumentException naming the roles there are
   */
  public static Role parse(String label) {
    for (Role role : values()) {
      if (role.label().equals(label)) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '" + label + "': one of reader, writer, owner, content, admin");
  }

  @Override
  public String toString() {
    return label();
  }
}
