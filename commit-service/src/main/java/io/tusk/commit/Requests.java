package io.tusk.commit;

import static io.tusk.common.pipeline.SpecFields.echo;

import io.tusk.common.Ids;
import io.tusk.common.http.ApiException;
import io.tusk.common.http.QueryParams;
import io.tusk.common.pipeline.LayoutChanges;
import io.tusk.common.pipeline.PipelineSpecs;
import io.tusk.common.pipeline.RepoSpecs;
import io.tusk.common.pipeline.SpecException;
import io.tusk.common.pipeline.SpecFields;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Trigger;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Validation of the commit service's requests: pure functions from a request body or parameter to a
 * spec or value, or an {@link ApiException} (400) whose message starts with the offending field's
 * path (e.g. {@code tables[0].memberKey}). Bodies are read by common's one field validator ({@link
 * SpecFields}): repo and pipeline specs by {@link RepoSpecs} and {@link PipelineSpecs}, so a typo
 * such as {@code "partition"} is refused the same way everywhere.
 */
final class Requests {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 1000;

  private Requests() {}

  /**
   * The repo a {@code POST /repos} body describes, parsed by the one parser of repo specs ({@link
   * RepoSpecs}).
   *
   * @param memberPartitions the deployment's member partition count, or 0 when each repo chooses
   */
  static RepoSpec repoSpec(JsonObject body, long createdAt, int memberPartitions) {
    Objects.requireNonNull(body, "body");
    return parsed(() -> RepoSpecs.fromDocument(document(body), createdAt, memberPartitions));
  }

  /**
   * The spec of {@code current} after the layout update a {@code PUT /repos/{repo}} body asks for
   * ({@code current} itself when nothing changes); see {@link LayoutChanges}.
   */
  static RepoSpec layoutUpdate(RepoSpec current, JsonObject body, long startSequence, long now) {
    Objects.requireNonNull(body, "body");
    return parsed(() -> LayoutChanges.update(current, document(body), startSequence, now));
  }

  /**
   * The trigger of a {@code PUT /repos/{repo}/trigger} body; null (no trigger) when it sets
   * nothing.
   */
  static Trigger trigger(JsonObject body) {
    Objects.requireNonNull(body, "body");
    return parsed(() -> RepoSpecs.trigger(document(body)));
  }

  /**
   * The {@code rawRetention} of a {@code PUT /repos/{repo}/retention} body ({@code null}: keep raw
   * copies forever); 400 for another field or a bad duration.
   */
  static Long rawRetention(JsonObject body) {
    Objects.requireNonNull(body, "body");
    for (String field : body.fieldNames()) {
      if (!field.equals("rawRetention")) {
        throw bad("unknown field '" + SpecFields.echo(field) + "' (only rawRetention)");
      }
    }
    if (!body.containsKey("rawRetention")) {
      throw bad("rawRetention is required (null: keep raw copies forever)");
    }
    return parsed(() -> RepoSpecs.rawRetentionMs(body.getValue("rawRetention"), "rawRetention"));
  }

  /**
   * The pipeline a {@code POST /pipelines} spec document describes, parsed by the one parser of
   * spec documents ({@link PipelineSpecs}). Whether its input repo or pipeline exists is the
   * caller's check.
   */
  static PipelineSpec pipelineSpec(Map<String, Object> document, long now) {
    return pipelineSpec(document, now, null);
  }

  /**
   * The pipeline a spec document describes; for an update ({@code previous} not null) the name may
   * be left out and an absent parallelism keeps the previous one. Version and creation time are the
   * caller's (the spec returned is version 1, created and updated {@code now}).
   */
  static PipelineSpec pipelineSpec(Map<String, Object> document, long now, PipelineSpec previous) {
    Objects.requireNonNull(document, "document");
    Map<String, Object> fields = new java.util.LinkedHashMap<>(document);
    if (previous != null) {
      Object given = fields.putIfAbsent("name", previous.getName());
      if (given != null && !previous.getName().equals(given)) {
        throw bad(
            "name "
                + echo(given)
                + " differs from the pipeline updated, "
                + echo(previous.getName()));
      }
      fields.putIfAbsent("parallelism", previous.getParallelism());
    }
    return parsed(
        () ->
            PipelineSpec.newBuilder(PipelineSpecs.fromDocument(fields, now)).setVersion(1).build());
  }

  /** The document a request body holds: a JSON object or YAML mapping (told apart by content). */
  static Map<String, Object> specDocument(String body) {
    if (body == null || body.isBlank()) {
      throw bad("request body must be a pipeline spec (a JSON object, or YAML)");
    }
    try {
      return PipelineSpecs.readDocument(body);
    } catch (SpecException e) {
      throw bad("request body: " + e.getMessage());
    }
  }

  /** The {@code limit} query parameter of a commit list (null: the default). */
  static int limit(String value) {
    return limit(value, DEFAULT_LIMIT);
  }

  /** A {@code limit} query parameter from 1 to {@link #MAX_LIMIT} (null: {@code defaultValue}). */
  static int limit(String value, int defaultValue) {
    return QueryParams.limit(value, defaultValue, MAX_LIMIT);
  }

  /**
   * The {@code before} query parameter of a commit list: only commits with a lower sequence are
   * listed (null: no bound).
   */
  static long before(String value) {
    if (value == null) {
      return Long.MAX_VALUE;
    }
    try {
      long before = Long.parseLong(value.trim());
      if (before >= 1) {
        return before;
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw bad("before must be a commit sequence (a whole number >= 1), got " + echo(value));
  }

  /** An erasure request ID in parameter {@code field}. */
  static String erasureId(String field, String value) {
    return id(field, "an erasure request ID", value);
  }

  private static String id(String field, String kind, String value) {
    if (!Ids.isValid(value)) {
      throw bad(
          field
              + " must be "
              + kind
              + " (32 lower-case hex characters), got "
              + (value == null ? "nothing" : echo(value)));
    }
    return value;
  }

  /** A {@code <partition>:<offset>} paging cursor (null when absent). */
  static RejectedRows.Cursor cursor(String field, String value) {
    if (value == null) {
      return null;
    }
    String[] parts = value.split(":", -1);
    try {
      if (parts.length == 2) {
        int partition = Integer.parseInt(parts[0]);
        long offset = Long.parseLong(parts[1]);
        if (partition >= 0 && offset >= 0) {
          return new RejectedRows.Cursor(partition, offset);
        }
      }
    } catch (NumberFormatException e) {
      // answered below with the rule
    }
    throw bad(
        field + " must be <partition>:<offset> as a page's \"next\" gives it, got " + echo(value));
  }

  /** A true/false query parameter (absent: false). */
  static boolean flag(String field, String value) {
    if (value == null) {
      return false;
    }
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw bad(field + " must be true or false, got " + echo(value));
    };
  }

  /** A repo or pipeline name in parameter {@code field}. */
  static String name(String field, String value) {
    if (!TopicNames.isValidName(value)) {
      throw bad(field + " " + echo(value) + " " + SpecFields.NAME_RULE);
    }
    return value;
  }

  /** What an idempotency key may hold: 1 to 128 of letters, digits and {@code . _ : -}. */
  private static final java.util.regex.Pattern IDEMPOTENCY_KEY =
      java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,128}");

  /**
   * The {@code Idempotency-Key} header of a seal request, or null without one: a request repeated
   * with the same key gets the commit the first one sealed.
   */
  static String idempotencyKey(String value) {
    if (value == null) {
      return null;
    }
    if (!IDEMPOTENCY_KEY.matcher(value).matches()) {
      throw bad(
          "header Idempotency-Key "
              + echo(value)
              + " must be 1-128 characters of letters, digits, '.', '_', ':' and '-'");
    }
    return value;
  }

  /** A branch name in parameter or field {@code field}: the charset of repo names. */
  static String branchName(String field, String value) {
    if (value == null || !TopicNames.NAME_PATTERN.matcher(value).matches()) {
      throw bad(
          field
              + " "
              + echo(value)
              + " must be 1-63 characters of a-z, 0-9, '-' and '_', starting with a letter or"
              + " digit");
    }
    return value;
  }

  /** A {@code POST /repos/{repo}/branches} body: the new branch's name and optional head. */
  record NewBranch(String name, String head) {}

  static NewBranch newBranch(JsonObject body) {
    return parsed(
        () -> {
          SpecFields fields = SpecFields.of(document(body), Set.of("name", "head"));
          String name = branchName("name", fields.string("name"));
          String head = fields.optionalString("head");
          // Any commit reference: BranchControl resolves it (CommitRefs).
          return new NewBranch(name, head);
        });
  }

  /** A {@code PUT /repos/{repo}/branches/{branch}} body: the new head and optional expected one. */
  record BranchMove(String head, String expectedHead) {}

  static BranchMove branchMove(JsonObject body) {
    return parsed(
        () -> {
          SpecFields fields = SpecFields.of(document(body), Set.of("head", "expectedHead"));
          // Commit references: BranchControl resolves them (CommitRefs).
          return new BranchMove(fields.string("head"), fields.optionalString("expectedHead"));
        });
  }

  /** Runs a parser of common's spec code, answering its {@link SpecException} as a 400. */
  private static <T> T parsed(Supplier<T> parser) {
    try {
      return parser.get();
    } catch (SpecException e) {
      throw bad(e.getMessage());
    }
  }

  /**
   * A JSON body as the plain maps, lists and scalars {@link SpecFields} reads (Vert.x keeps a
   * nested object as a map or as a {@link JsonObject}, depending on how the body was built).
   */
  private static Map<String, Object> document(JsonObject body) {
    return plainMap(body.getMap());
  }

  private static Map<String, Object> plainMap(Map<?, ?> map) {
    Map<String, Object> plain = new LinkedHashMap<>();
    map.forEach((field, value) -> plain.put(String.valueOf(field), plain(value)));
    return plain;
  }

  private static Object plain(Object value) {
    if (value instanceof JsonObject object) {
      return plainMap(object.getMap());
    }
    if (value instanceof Map<?, ?> map) {
      return plainMap(map);
    }
    if (value instanceof JsonArray array) {
      return plain(array.getList());
    }
    if (value instanceof List<?> list) {
      List<Object> items = new ArrayList<>(list.size());
      list.forEach(item -> items.add(plain(item)));
      return items;
    }
    return value;
  }

  private static ApiException bad(String message) {
    return ApiException.badRequest(message);
  }
}
