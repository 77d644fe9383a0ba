package io.tusk.common.security;

import java.util.Objects;

/**
 * Who made a request: the verified token's subject ({@code sub}). What it may do is decided by
 * {@link Access} from the role bindings and the configured admins, never by the token's other
 * claims.
 */
public record Principal(String subject) {

  /** The caller when authentication is off: every request is an anonymous admin. */
  public static final Principal ANONYMOUS = new Principal("anonymous");

  public Principal {
    Objects.requireNonNull(subject, "subject");
  }
}
