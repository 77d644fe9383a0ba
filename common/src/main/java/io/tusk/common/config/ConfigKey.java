package io.tusk.common.config;

import java.util.Objects;

/**
 * One configuration key a service reads from its environment: the environment variable's name, what
 * it means, and its default ({@code null} when the key is required).
 *
 * <p>Every service lists its keys in one place (its config record's {@code KEYS}); the README and
 * compose.yaml are checked against those lists.
 */
public record ConfigKey(String name, String doc, String defaultValue) {

  public ConfigKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(doc, "doc");
  }

  /** A key the service cannot start without. */
  public static ConfigKey required(String name, String doc) {
    return new ConfigKey(name, doc, null);
  }

  /** A key with a default value. */
  public static ConfigKey optional(String name, String defaultValue, String doc) {
    return new ConfigKey(name, doc, Objects.requireNonNull(defaultValue, "defaultValue"));
  }

  /** True when the key has no default. */
  public boolean isRequired() {
    return defaultValue == null;
  }
}
