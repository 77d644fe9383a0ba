package io.tusk.common.config;

/**
 * Configuration is missing or invalid; the message names the key. Services fail at start with it.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
