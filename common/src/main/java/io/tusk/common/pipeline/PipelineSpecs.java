package io.tusk.common.pipeline;

import static io.tusk.common.pipeline.SpecFields.echo;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.member.Hashing;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import io.tusk.schemas.serde.TrustedClasses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * The one place a pipeline spec document (JSON or YAML, fields as in
 * docs/versioning-and-processing.md) becomes a {@link PipelineSpec}, validated, with its spec hash.
 * Used by the commit service ({@code POST /pipelines}) and by {@code tusk run}.
 *
 * <pre>{@code
 * name: gibleed-insights
 * input: {repo: omop, branch: master}        # or {pipeline: upstream, memberKey: PERSON_ID}
 * transform:
 *   cmd: [python3, insight.py]               # or java: <class or registered name>
 *   worker: false                            # true: one long-lived process per thread
 *   env: {THRESHOLD: "3"}
 *   inputFormat: csv                         # cmd: csv or json; worker: json or split
 * parallelism: 4                             # 1..1000
 * datumTries: 3                              # >= 1
 * datumTimeout: 30s                          # ms, s, m, h, d; may combine: 1h30m
 * jobTimeout: 2h
 * errCmd: [python3, recover.py]
 * keepOutputsOnUpdate: false
 * }</pre>
 *
 * Unknown fields are refused so a typo is not silently ignored; every error is a {@link
 * SpecException} naming the field's path.
 */
public final class PipelineSpecs {
  public static final int DEFAULT_PARALLELISM = 4;
  public static final int MAX_PARALLELISM = 1000;
  public static final int DEFAULT_DATUM_TRIES = 3;
  public static final int MAX_DATUM_TRIES = 100;
  public static final String DEFAULT_BRANCH = "master";
  public static final String CSV = "csv";
  public static final String JSON_LINES = "json";

  /**
   * A worker's tables in pandas' split layout, {@code {"columns": [...], "data": [[...], ...]}}: a
   * line two fifths the size of row objects, parsed in less than half the time.
   */
  public static final String SPLIT = "split";

  /** Environment variable names a spec may set; {@code TUSK_*} is reserved for Tusk's own. */
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private static final String RESERVED_ENV_PREFIX = "TUSK_";
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");
  private static final String DURATION_RULE =
      "must be a duration such as \"30s\", \"5m\" or \"1h30m\" (units ms, s, m, h, d)";
  private static final Set<String> TOP_FIELDS =
      Set.of(
          "name",
          "input",
          "transform",
          "parallelism",
          "datumTries",
          "datumTimeout",
          "jobTimeout",
          "errCmd",
          "keepOutputsOnUpdate");
  private static final Set<String> TRANSFORM_FIELDS =
      Set.of("java", "cmd", "worker", "env", "inputFormat");

  /**
   * Columns of a derived repo's table besides the member key: the upstream member and the output.
   */
  public static final List<String> DERIVED_COLUMNS = List.of("member", "data");

  /** Refuses text after the object (e.g. {@code {...}}}), which would otherwise be ignored. */
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  static {
    // Specs are built and copied here without a serde, which would otherwise trust Tusk's classes.
    TrustedClasses.install();
  }

  private PipelineSpecs() {}

  /**
   * Parses a JSON (text starting with '{') or YAML document into a validated spec.
   *
   * @param createdAt epoch milliseconds stamped on the spec
   * @throws SpecException naming the offending field, or with an empty field when the text is not a
   *     document
   */
  public static PipelineSpec parse(String text, long createdAt) {
    return fromDocument(readDocument(text), createdAt);
  }

  /**
   * Reads a JSON or YAML document into plain maps, lists and scalars.
   *
   * @throws SpecException if the text is not one JSON or YAML object
   */
  public static Map<String, Object> readDocument(String text) {
    Objects.requireNonNull(text, "text");
    String trimmed = text.strip();
    if (trimmed.isEmpty()) {
      throw new SpecException("", "the spec document is empty");
    }
    Object document;
    if (trimmed.startsWith("{")) {
      try {
        document = JSON.readValue(trimmed, new TypeReference<Map<String, Object>>() {});
      } catch (JsonProcessingException e) {
        // A read past a parser limit (e.g. nesting deeper than 1,000) has no location.
        JsonLocation at = e.getLocation();
        throw new SpecException(
            "",
            "the spec is not valid JSON"
                + (at == null
                    ? " (" + firstLine(e) + ")"
                    : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
      }
    } else {
      try {
        document = new Yaml(new SafeConstructor(new LoaderOptions())).load(trimmed);
      } catch (YAMLException e) {
        throw new SpecException("", "the spec is not valid YAML: " + firstLine(e));
      }
    }
    if (!(document instanceof Map<?, ?> map)) {
      throw new SpecException("", "the spec must be an object (a map of fields)");
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    map.forEach((key, value) -> fields.put(String.valueOf(key), value));
    return fields;
  }

  /**
   * Validates a document already read into maps (e.g. a JSON request body) and builds the spec.
   *
   * @param createdAt epoch milliseconds stamped on the spec (also its {@code updatedAt})
   * @throws SpecException naming the offending field
   */
  public static PipelineSpec fromDocument(Map<String, ?> document, long createdAt) {
    Objects.requireNonNull(document, "document");
    SpecFields fields = SpecFields.of(document, TOP_FIELDS);
    String name = fields.name("name");
    PipelineSpec.Builder spec =
        PipelineSpec.newBuilder().setName(name).setCreatedAt(createdAt).setUpdatedAt(createdAt);
    input(fields.object("input", Set.of("repo", "branch", "pipeline", "memberKey")), name, spec);
    spec.setTransform(transform(fields.object("transform", TRANSFORM_FIELDS)));
    spec.setParallelism(fields.integer("parallelism", DEFAULT_PARALLELISM, 1, MAX_PARALLELISM));
    spec.setDatumTries(fields.integer("datumTries", DEFAULT_DATUM_TRIES, 1, MAX_DATUM_TRIES));
    spec.setDatumTimeoutMs(durationMillis(fields, "datumTimeout"));
    spec.setJobTimeoutMs(durationMillis(fields, "jobTimeout"));
    spec.setErrCmd(fields.has("errCmd") ? fields.command("errCmd", true) : List.of());
    spec.setKeepOutputsOnUpdate(fields.bool("keepOutputsOnUpdate", false));
    spec.setSpecHash("");
    PipelineSpec built = spec.build();
    built.setSpecHash(specHash(built));
    return built;
  }

  /**
   * The hash of what decides a datum's output: the input, the transform (kind, name, command,
   * environment, input format) and the error command; not parallelism, tries or timeouts. A plain
   * Java pipeline hashes as it did before these fields existed ({@link Hashing#specHash}), so its
   * datums are not all reprocessed after an upgrade.
   */
  public static String specHash(PipelineSpec spec) {
    Objects.requireNonNull(spec, "spec");
    TransformSpec transform = spec.getTransform();
    if (transform.getKind() == TransformKind.JAVA
        && transform.getEnv().isEmpty()
        && spec.getErrCmd().isEmpty()
        && spec.getInputPipeline() == null) {
      return Hashing.specHash(spec.getInputRepo(), TransformKind.JAVA.name(), transform.getName());
    }
    List<String> parts = new ArrayList<>();
    parts.add("pipeline-spec-v2");
    parts.add(spec.getInputRepo());
    parts.add(String.valueOf(spec.getInputPipeline()));
    parts.add(String.valueOf(spec.getInputMemberKey()));
    parts.add(transform.getKind().name());
    parts.add(transform.getName());
    addList(parts, transform.getCmd());
    new TreeMap<>(transform.getEnv())
        .forEach(
            (key, value) -> {
              parts.add(key);
              parts.add(value);
            });
    parts.add(Integer.toString(transform.getEnv().size()));
    parts.add(transform.getInputFormat());
    addList(parts, spec.getErrCmd());
    return Hashing.sha256Hex(parts.toArray(String[]::new));
  }

  /**
   * Parses a duration such as {@code 30s}, {@code 5m}, {@code 1h30m} or {@code 250ms}.
   *
   * @param field the field path named in the error
   * @throws SpecException if the text is not a positive duration
   */
  public static Duration duration(String field, String text) {
    String value = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    Matcher part = DURATION_PART.matcher(value);
    Duration total = Duration.ZERO;
    int end = 0;
    while (part.lookingAt()) {
      long amount;
      try {
        amount = Long.parseLong(part.group(1));
        total =
            total.plus(
                switch (part.group(2)) {
                  case "ms" -> Duration.ofMillis(amount);
                  case "s" -> Duration.ofSeconds(amount);
                  case "m" -> Duration.ofMinutes(amount);
                  case "h" -> Duration.ofHours(amount);
                  default -> Duration.ofDays(amount);
                });
      } catch (NumberFormatException | ArithmeticException e) {
        throw new SpecException(field, "is too long, got " + echo(text));
      }
      end = part.end();
      part.region(end, value.length());
    }
    if (value.isEmpty() || end != value.length()) {
      throw new SpecException(field, DURATION_RULE + ", got " + echo(text));
    }
    if (total.isZero()) {
      throw new SpecException(field, "must be longer than zero, got " + echo(text));
    }
    return total;
  }

  private static void input(SpecFields input, String name, PipelineSpec.Builder spec) {
    boolean repo = input.has("repo");
    boolean pipeline = input.has("pipeline");
    if (repo == pipeline) {
      throw new SpecException(
          input.path(),
          "must name either a repo ({repo, branch}) or a pipeline ({pipeline,"
              + " memberKey}), not "
              + (repo ? "both" : "neither"));
    }
    if (repo) {
      input.refuse("memberKey", "applies to a pipeline input only");
      spec.setInputRepo(input.name("repo"));
      spec.setInputBranch(input.has("branch") ? input.name("branch") : DEFAULT_BRANCH);
      return;
    }
    input.refuse("branch", "applies to a repo input only");
    String upstream = input.name("pipeline");
    if (upstream.equals(name)) {
      throw new SpecException(input.pathOf("pipeline"), "cannot be the pipeline itself");
    }
    String memberKey = input.string("memberKey");
    if (DERIVED_COLUMNS.contains(memberKey)) {
      throw new SpecException(
          input.pathOf("memberKey"),
          echo(memberKey) + " is a column of the derived repo's own table " + DERIVED_COLUMNS);
    }
    String derived = TopicNames.derivedRepo(upstream, memberKey);
    if (!TopicNames.isValidName(derived)) {
      throw new SpecException(
          input.pathOf("memberKey"),
          "makes the derived repo name " + echo(derived) + ", which " + SpecFields.NAME_RULE);
    }
    spec.setInputRepo(derived)
        .setInputBranch(DEFAULT_BRANCH)
        .setInputPipeline(upstream)
        .setInputMemberKey(memberKey);
  }

  private static TransformSpec transform(SpecFields transform) {
    boolean java = transform.has("java");
    boolean cmd = transform.has("cmd");
    if (java == cmd) {
      throw new SpecException(
          transform.path(),
          "must give either java (a class or registered name) or cmd (a command), not "
              + (java ? "both" : "neither"));
    }
    boolean worker = transform.bool("worker", false);
    TransformSpec.Builder spec = TransformSpec.newBuilder().setName("").setCmd(List.of());
    if (java) {
      if (worker) {
        throw new SpecException(transform.pathOf("worker"), "applies to cmd transforms only");
      }
      transform.refuse("env", "applies to cmd transforms only");
      transform.refuse("inputFormat", "applies to cmd transforms only");
      return spec.setKind(TransformKind.JAVA).setName(transform.string("java")).build();
    }
    spec.setKind(worker ? TransformKind.WORKER : TransformKind.COMMAND)
        .setCmd(transform.command("cmd", false))
        .setEnv(transform.has("env") ? env(transform, "env") : Map.of());
    String format = transform.optionalString("inputFormat");
    if (format != null) {
      format = format.toLowerCase(Locale.ROOT);
      List<String> formats = worker ? List.of(JSON_LINES, SPLIT) : List.of(CSV, JSON_LINES);
      if (!formats.contains(format)) {
        throw new SpecException(
            transform.pathOf("inputFormat"),
            "must be \""
                + formats.get(0)
                + "\" or \""
                + formats.get(1)
                + "\" for a "
                + (worker ? "worker" : "per-datum command")
                + ", got "
                + echo(format));
      }
      spec.setInputFormat(format);
    }
    return spec.build();
  }

  private static Long durationMillis(SpecFields fields, String field) {
    Object value = fields.value(field);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String text)) {
      throw new SpecException(fields.pathOf(field), DURATION_RULE + ", got " + echo(value));
    }
    return duration(fields.pathOf(field), text).toMillis();
  }

  /** A map of environment variable names to scalar values (numbers become text). */
  private static Map<String, String> env(SpecFields fields, String field) {
    if (!(fields.value(field) instanceof Map<?, ?> entries)) {
      throw new SpecException(fields.pathOf(field), "must be an object of names to values");
    }
    Map<String, String> env = new TreeMap<>();
    for (Map.Entry<?, ?> entry : entries.entrySet()) {
      String key = String.valueOf(entry.getKey());
      String keyPath = fields.pathOf(field) + "." + key;
      if (!ENV_NAME.matcher(key).matches()) {
        throw new SpecException(
            keyPath, "is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      }
      if (key.startsWith(RESERVED_ENV_PREFIX)) {
        throw new SpecException(
            keyPath, "is reserved: Tusk sets the " + RESERVED_ENV_PREFIX + "* variables");
      }
      Object item = entry.getValue();
      if (!(item instanceof String || item instanceof Number || item instanceof Boolean)) {
        throw new SpecException(keyPath, "must be a string, number or boolean");
      }
      env.put(key, item.toString());
    }
    return env;
  }

  private static void addList(List<String> parts, List<String> values) {
    parts.add(Integer.toString(values.size()));
    parts.addAll(values);
  }

  private static String firstLine(Exception e) {
    String message = String.valueOf(e.getMessage());
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
