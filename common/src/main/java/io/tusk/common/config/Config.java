package io.tusk.common.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Values of a set of {@link ConfigKey}s read from an environment map (normally {@code
 * System.getenv()}). Loading fails at once, naming every missing required key; typed getters fail
 * naming the key whose value does not parse.
 */
public final class Config {
  private final Map<String, String> values;
  private final Map<String, String> environment;

  private Config(Map<String, String> values, Map<String, String> environment) {
    this.values = values;
    this.environment = environment;
  }

  /**
   * Reads {@code keys} from {@code environment}, applying defaults.
   *
   * @throws ConfigException naming each required key that is missing or blank
   */
  public static Config load(Map<String, String> environment, Collection<ConfigKey> keys) {
    Objects.requireNonNull(environment, "environment");
    Map<String, String> values = new HashMap<>();
    List<String> missing = new ArrayList<>();
    for (ConfigKey key : keys) {
      String value = environment.get(key.name());
      if (value == null || value.isBlank()) {
        if (key.isRequired()) {
          missing.add(key.name() + " (" + key.doc() + ")");
          continue;
        }
        value = key.defaultValue();
      }
      values.put(key.name(), value.trim());
    }
    if (!missing.isEmpty()) {
      throw new ConfigException("missing required configuration: " + String.join(", ", missing));
    }
    return new Config(values, Map.copyOf(environment));
  }

  /** The raw value of {@code key}. */
  public String string(ConfigKey key) {
    String value = values.get(key.name());
    if (value == null) {
      throw new IllegalArgumentException("key " + key.name() + " was not declared when loading");
    }
    return value;
  }

  /** The value of {@code key} as an int. */
  public int integer(ConfigKey key) {
    String value = string(key);
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key.name() + " must be a whole number, got '" + value + "'");
    }
  }

  /** The value of {@code key} as an int of at least {@code min}. */
  public int integer(ConfigKey key, int min) {
    int value = integer(key);
    if (value < min) {
      throw new ConfigException(key.name() + " must be at least " + min + ", got " + value);
    }
    return value;
  }

  /** The value of {@code key} as a flag: {@code true} or {@code false}, in any case. */
  public boolean flag(ConfigKey key) {
    String value = string(key);
    if (value.equalsIgnoreCase("true")) {
      return true;
    }
    if (value.equalsIgnoreCase("false")) {
      return false;
    }
    throw new ConfigException(key.name() + " must be true or false, got '" + value + "'");
  }

  /** The value of {@code key} as a long. */
  public long longValue(ConfigKey key) {
    String value = string(key);
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new ConfigException(key.name() + " must be a whole number, got '" + value + "'");
    }
  }

  /** The value of {@code key} as a TCP port (0 picks a free one). */
  public int port(ConfigKey key) {
    int value = integer(key);
    if (value < 0 || value > 65535) {
      throw new ConfigException(key.name() + " must be a port number (0-65535), got " + value);
    }
    return value;
  }

  /**
   * The value of {@code key} as an http(s) URL with a host (and a port when {@code needsPort}).
   *
   * @throws ConfigException naming the key when the value is not such a URL
   */
  public URI httpUrl(ConfigKey key, boolean needsPort) {
    String value = string(key);
    try {
      URI uri = new URI(value);
      boolean http = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
      if (http && uri.getHost() != null && (!needsPort || uri.getPort() >= 0)) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // answered below with the rule
    }
    throw new ConfigException(
        key.name()
            + " must be an http(s) URL such as http://host:8080"
            + (needsPort ? " (with a port)" : "")
            + ", got '"
            + value
            + "'");
  }

  /** The value of {@code key} as a comma-separated list (empty entries dropped). */
  public List<String> list(ConfigKey key) {
    return Arrays.stream(string(key).split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  /** Environment variables starting with {@code prefix}, for pass-through settings. */
  public Map<String, String> withPrefix(String prefix) {
    Map<String, String> result = new HashMap<>();
    environment.forEach(
        (name, value) -> {
          if (name.startsWith(prefix)) {
            result.put(name.substring(prefix.length()), value);
          }
        });
    return result;
  }
}
