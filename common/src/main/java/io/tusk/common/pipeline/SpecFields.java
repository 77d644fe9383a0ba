package io.tusk.common.pipeline;

import io.tusk.common.topics.TopicNames;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed access to the fields of one object of a spec document or request body, read into plain
 * maps, lists and scalars (JSON or YAML). The one field validator of Tusk: {@link PipelineSpecs},
 * {@link RepoSpecs} and the commit service's request parsing all read through it, so a name, a
 * number or a list is checked by the same rule and every error names the field's full path (e.g.
 * {@code tables[0].memberKey}) in a {@link SpecException}. Unknown fields are refused, so a typo is
 * not silently ignored.
 */
public final class SpecFields {
  /** The rule of repo and pipeline names ({@link TopicNames#isValidName}), as errors state it. */
  public static final String NAME_RULE =
      "must be 1-63 characters of a-z, 0-9, '-' and '_', start with a letter or digit,"
          + " and not be 'tusk'";

  /** Longest value an error message repeats. */
  private static final int MAX_ECHO = 64;

  private final Map<String, ?> map;
  private final String path;

  /**
   * The fields of the object {@code map} found at {@code path} ("" for the document itself).
   *
   * @throws SpecException naming the first field not in {@code known}
   */
  public SpecFields(Map<String, ?> map, String path, Set<String> known) {
    this.map = map;
    this.path = path;
    for (String field : map.keySet()) {
      if (!known.contains(field)) {
        // The name is the caller's input: quoted cut short, as values are.
        throw new SpecException(
            pathOf(shortened(field)), "is not a known field (known: " + new TreeSet<>(known) + ")");
      }
    }
  }

  /** The fields of a whole document. */
  public static SpecFields of(Map<String, ?> document, Set<String> known) {
    return new SpecFields(document, "", known);
  }

  /** A value quoted for an error message, cut short so a huge value does not flood it. */
  public static String echo(Object value) {
    return "'" + shortened(String.valueOf(value)) + "'";
  }

  private static String shortened(String text) {
    return text.length() > MAX_ECHO ? text.substring(0, MAX_ECHO) + "..." : text;
  }

  /** The path of this object ("" for the document). */
  public String path() {
    return path;
  }

  /** The full path of one of its fields. */
  public String pathOf(String field) {
    return path.isEmpty() ? field : path + "." + field;
  }

  /** True if the field is present and not null. */
  public boolean has(String field) {
    return map.get(field) != null;
  }

  /** The field's value as read, or null; for shapes no typed getter covers. */
  public Object value(String field) {
    return map.get(field);
  }

  /** Refuses the field, saying {@code why}, if it is present. */
  public void refuse(String field, String why) {
    if (has(field)) {
      throw new SpecException(pathOf(field), why);
    }
  }

  /** A required non-blank string, stripped. */
  public String string(String field) {
    String value = optionalString(field);
    if (value == null) {
      throw new SpecException(pathOf(field), "is required");
    }
    return value;
  }

  /** An optional non-blank string, stripped (null when absent). */
  public String optionalString(String field) {
    Object value = map.get(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text) || text.isBlank()) {
      throw new SpecException(pathOf(field), "must be a non-blank string");
    }
    return text.strip();
  }

  /** A required repo or pipeline name ({@link #NAME_RULE}). */
  public String name(String field) {
    String name = string(field);
    if (!TopicNames.isValidName(name)) {
      throw new SpecException(pathOf(field), echo(name) + " " + NAME_RULE);
    }
    return name;
  }

  /** An optional whole number from {@code min} to {@code max} ({@code defaultValue} if absent). */
  public int integer(String field, int defaultValue, int min, int max) {
    Long value = longValue(field, min, max);
    return value == null ? defaultValue : value.intValue(); // in [min, max]: exact
  }

  /** An optional whole number from {@code min} to {@code max} (null when absent). */
  public Long longValue(String field, long min, long max) {
    Object value = map.get(field);
    if (value == null) {
      return null;
    }
    String rule = "must be a whole number from " + min + " to " + max;
    if (!(value instanceof Integer
        || value instanceof Long
        || value instanceof Short
        || value instanceof BigInteger)) {
      throw new SpecException(pathOf(field), rule + ", got " + echo(value));
    }
    BigInteger number = new BigInteger(value.toString());
    if (number.compareTo(BigInteger.valueOf(min)) < 0
        || number.compareTo(BigInteger.valueOf(max)) > 0) {
      throw new SpecException(pathOf(field), rule + ", got " + number);
    }
    return number.longValueExact();
  }

  /** An optional true or false ({@code defaultValue} if absent). */
  public boolean bool(String field, boolean defaultValue) {
    Object value = map.get(field);
    if (value == null) {
      return defaultValue;
    }
    if (!(value instanceof Boolean flag)) {
      throw new SpecException(pathOf(field), "must be true or false, got " + echo(value));
    }
    return flag;
  }

  /** A required array, as read. */
  public List<?> list(String field) {
    Object value = map.get(field);
    if (value == null) {
      throw new SpecException(pathOf(field), "is required");
    }
    if (!(value instanceof List<?> list)) {
      throw new SpecException(pathOf(field), "must be an array");
    }
    return list;
  }

  /** A required array of distinct non-blank strings, stripped; {@code nonEmpty} refuses []. */
  public List<String> uniqueStrings(String field, boolean nonEmpty) {
    List<?> list = list(field);
    if (nonEmpty && list.isEmpty()) {
      throw new SpecException(pathOf(field), "must not be empty");
    }
    List<String> values = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String item = pathOf(field) + "[" + i + "]";
      if (!(list.get(i) instanceof String text) || text.isBlank()) {
        throw new SpecException(item, "must be a non-blank string");
      }
      if (values.contains(text.strip())) {
        throw new SpecException(item, echo(text.strip()) + " is listed twice");
      }
      values.add(text.strip());
    }
    return values;
  }

  /**
   * A command and its arguments: an array of non-empty strings (numbers and booleans become text)
   * whose first names a program; {@code mayBeEmpty} allows {@code []}.
   */
  public List<String> command(String field, boolean mayBeEmpty) {
    Object value = map.get(field);
    if (!(value instanceof List<?> list)) {
      throw new SpecException(
          pathOf(field), "must be an array of strings (the command and its arguments)");
    }
    if (list.isEmpty() && !mayBeEmpty) {
      throw new SpecException(pathOf(field), "must not be empty");
    }
    List<String> values = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      Object item = list.get(i);
      if (item instanceof String text && !text.isEmpty()) {
        values.add(text);
      } else if (item instanceof Number || item instanceof Boolean) {
        values.add(item.toString());
      } else {
        throw new SpecException(pathOf(field) + "[" + i + "]", "must be a non-empty string");
      }
    }
    if (!values.isEmpty() && values.get(0).isBlank()) {
      throw new SpecException(pathOf(field) + "[0]", "must name a program");
    }
    return values;
  }

  /** A required object whose fields are all in {@code known}. */
  public SpecFields object(String field, Set<String> known) {
    Object value = map.get(field);
    if (value == null) {
      throw new SpecException(pathOf(field), "is required");
    }
    if (!(value instanceof Map<?, ?> object)) {
      throw new SpecException(pathOf(field), "must be an object");
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    object.forEach((key, item) -> fields.put(String.valueOf(key), item));
    return new SpecFields(fields, pathOf(field), known);
  }
}
