package io.tusk.cli.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.StackRoutes;
import io.tusk.cli.StackRoutes.Fixture;
import io.tusk.cli.StackRoutes.Row;
import io.tusk.cli.TuskClient;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.topics.TopicNames;
import io.tusk.localstack.LocalStack;
import io.tusk.testfixtures.LocalStackExtension;
import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 9's fuzz of the HTTP inputs: for every declared route of the commit, partition and lineage
 * services (as admin, so authorization is not what answers), on the local stack with a real repo,
 * pipeline, commit and job, sends bad path parameters (dot segments, NUL, 10,000 characters,
 * unicode, encoded slashes, empty), bad query parameters ({@code limit}s out of range, garbage
 * cursors and dates, huge depths, unknown parameters), bad bodies (over the body limit, invalid
 * JSON, JSON of the wrong type, 10,000 levels of nesting, wrong field types, missing and unknown
 * fields, YAML alias bombs) and wrong methods. Every answer must come within a deadline, be a 2xx
 * only where the input is in fact valid, never a 5xx, and each 4xx a short JSON {@code
 * {"error","message"}} (no 10 KB input reflected). Afterwards {@code tusk.repos}, {@code
 * tusk.pipelines} and {@code tusk.branches} hold nothing beyond what the set-up wrote, and no repo
 * or pipeline was created. The generated inputs come from a fixed, printed seed ({@code
 * -Dtusk.fuzz.seed=N} replays another).
 */
@Tag("integration")
@Timeout(value = 900, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class HttpInputFuzzIT {
  private static final long SEED = Long.getLong("tusk.fuzz.seed", 9_009L);
  private static final Duration DEADLINE = Duration.ofSeconds(30);

  /** Longer than any bounded echo of an input, far shorter than the 10,000-character inputs. */
  private static final int MAX_ERROR_BODY = 2_048;

  /** The commit service's body limit (CommitApi.MAX_BODY_BYTES). */
  private static final int BODY_LIMIT = 1024 * 1024;

  private static final String LONG = "a".repeat(10_000);
  private static final List<String> WATCHED =
      List.of(TopicNames.REPOS, TopicNames.PIPELINES, TopicNames.BRANCHES);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();
  private final Random random = new Random(SEED);
  private final List<String> findings = new ArrayList<>();
  private String authorization;
  private int sent;
  private int answered413;
  private int closedOnOversized;

  /** One request of the fuzz; {@code mayBeValid}: a 2xx is a right answer too. */
  private record Case(
      String what, Row row, String method, String path, String body, boolean mayBeValid) {}

  @Test
  void shouldAnswerEveryBadInputWithA4xxJsonErrorAndWriteNothing(LocalStack stack)
      throws Exception {
    System.out.println("HttpInputFuzzIT seed=" + SEED);
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    Path home = Files.createTempDirectory(Paths.get("target"), "fuzz-it-");
    try (TuskServices services =
            TuskServices.start(
                stack.bootstrapServers(), stack.registryUrl(), home, Ports.ephemeral(), 1);
        KafkaConsumer<byte[], byte[]> offsets = offsetReader(stack)) {
      TuskClient admin = services.client();
      authorization = admin.authorization();
      Fixture fixture = StackRoutes.fixture(stack, admin, "fuzz", suffix);
      List<Row> rows = StackRoutes.declared(services);
      Map<TopicPartition, Long> before = endOffsets(offsets);
      Set<String> namesBefore = names(admin);

      // Given every declared route and the bad inputs generated for it
      List<Case> cases = new ArrayList<>();
      for (Row row : rows) {
        pathCases(row, fixture, cases);
        queryCases(row, fixture, cases);
        bodyCases(row, fixture, suffix, cases);
      }
      methodCases(rows, fixture, cases);

      // When each is sent as admin
      for (Case c : cases) {
        check(c);
      }

      // Then none answered a 5xx, hung, or refused without a short JSON error ...
      System.out.printf(
          "HttpInputFuzzIT seed=%d: %d requests over %d routes, %d findings%n",
          SEED, sent, rows.size(), findings.size());
      System.out.printf(
          "HttpInputFuzzIT: oversized bodies answered 413 %d times, the connection closed while"
              + " uploading %d times%n",
          answered413, closedOnOversized);
      findings.forEach(System.out::println);
      assertThat(findings).as("findings (seed %d)", SEED).isEmpty();
      assertThat(sent).isGreaterThan(1_000);
      // ... and nothing was written: no record on the watched topics, no repo or pipeline
      assertThat(endOffsets(offsets)).as("end offsets of %s", WATCHED).isEqualTo(before);
      assertThat(names(admin)).isEqualTo(namesBefore);
    }
  }

  // ---- the generated inputs

  /** Path parameter values, as sent (already percent-encoded where they must be). */
  private List<String> badPathValues() {
    List<String> values =
        new ArrayList<>(
            List.of(
                "..",
                "%2E%2E",
                "../../etc/passwd",
                "..%2F..%2Fetc%2Fpasswd",
                "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                "%00",
                "a%00b",
                LONG,
                encode("é名前"),
                encode("\uD83D\uDCA9"),
                "a%2Fb",
                "%2F",
                "",
                "%ZZ",
                "a%",
                encode("a b\tc"),
                encode("M1\n"),
                encode("repo:" + "x".repeat(2_000))));
    for (int i = 0; i < 3; i++) {
      values.add(encode(randomText(1 + random.nextInt(80))));
    }
    return values;
  }

  /** Query strings of bad parameters, each as sent. */
  private List<String> badQueries() {
    List<String> queries =
        new ArrayList<>(
            List.of(
                "limit=-1",
                "limit=0",
                "limit=2147483648",
                "limit=9223372036854775808",
                "limit=1e9",
                "limit=abc",
                "limit=",
                "limit=1&limit=abc",
                "limit=" + "9".repeat(10_000),
                "after=zz:yy",
                "after=-1:-5",
                "after=" + LONG,
                "after=%00",
                "after=" + encode("M1\u0000"),
                "before=-1",
                "before=abc",
                "since=not-a-date",
                "since=2026-13-45T99:99:99Z",
                "since=9999999999999999999",
                "since=" + LONG,
                "depth=2147483648",
                "depth=999999999",
                "depth=-1",
                "from=..%2Fx",
                "to=" + "g".repeat(32),
                "from=" + "0".repeat(10_000),
                "at=..",
                "at=" + "f".repeat(31),
                "commit=" + LONG,
                "content=maybe",
                "reprocess=maybe",
                "state=bogus",
                "pipeline=..%2Fx",
                "pipeline=" + LONG,
                "branch=..%2Fmaster",
                "zzz-unknown=1",
                "%ZZ=1",
                "a=%ZZ",
                "&&&==&"));
    for (int i = 0; i < 3; i++) {
      String[] names = {"limit", "after", "since", "depth", "from", "to", "at", "before"};
      queries.add(names[random.nextInt(names.length)] + "=" + encode(randomText(40)));
    }
    return queries;
  }

  private void pathCases(Row row, Fixture fixture, List<Case> cases) {
    String template = row.route().path();
    String method = row.route().method().name();
    for (String param : StackRoutes.params(template)) {
      for (String bad : badPathValues()) {
        String path =
            StackRoutes.path(template, p -> p.equals(param) ? bad : fixture.value(template, p));
        // A role binding's subject is any text: a grant to it may be valid.
        boolean mayBeValid = !isMutation(method) || param.equals("subject");
        cases.add(
            new Case(
                "path :" + param + "=" + shorten(bad),
                row,
                method,
                path,
                bodyFor(row),
                mayBeValid));
      }
    }
  }

  private void queryCases(Row row, Fixture fixture, List<Case> cases) {
    String path = StackRoutes.path(row.route().path(), fixture);
    boolean mutation = isMutation(row.route().method().name());
    for (String query : badQueries()) {
      // A mutation is sent only bad values of a parameter it reads, so it cannot be valid.
      if (mutation && !query.startsWith(readsParameter(row.route().path()) + "=")) {
        continue;
      }
      cases.add(
          new Case(
              "query " + shorten(query),
              row,
              row.route().method().name(),
              path + "?" + query,
              bodyFor(row),
              !mutation));
    }
  }

  private void bodyCases(Row row, Fixture fixture, String suffix, List<Case> cases) {
    String method = row.route().method().name();
    if (!method.equals("POST") && !method.equals("PUT")) {
      return;
    }
    String path = StackRoutes.path(row.route().path(), fixture);
    List<String[]> bodies = new ArrayList<>();
    bodies.add(new String[] {"oversized", oversized(BODY_LIMIT + 1)});
    bodies.add(new String[] {"oversized 4 MiB", oversized(4 * BODY_LIMIT)});
    ObjectNode base = baseBody(row.route().path(), fixture, suffix);
    if (base != null) {
      bodies.add(new String[] {"empty", ""});
      bodies.add(new String[] {"invalid JSON 1", "{\"name\": "});
      bodies.add(new String[] {"invalid JSON 2", "{'name': 1}"});
      bodies.add(new String[] {"invalid JSON 3", base + "}"});
      bodies.add(new String[] {"invalid JSON 4", "{\"name\":\"\u0000\"" + LONG});
      bodies.add(new String[] {"array", "[]"});
      bodies.add(new String[] {"array of the body", "[" + base + "]"});
      bodies.add(new String[] {"number", "42"});
      bodies.add(new String[] {"null", "null"});
      bodies.add(new String[] {"string", "\"" + LONG + "\""});
      bodies.add(new String[] {"true", "true"});
      bodies.add(new String[] {"nested arrays", "[".repeat(10_000) + "]".repeat(10_000)});
      bodies.add(
          new String[] {"nested objects", "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000)});
      bodies.add(
          new String[] {
            "nested in a field", "{\"name\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}"
          });
      bodies.add(new String[] {"YAML alias bomb", yamlBomb()});
      bodies.add(new String[] {"YAML nesting", "name: " + "[".repeat(10_000)});
      bodies.add(new String[] {"YAML java tag", "!!java.io.File [\"/etc/passwd\"]"});
      bodies.add(new String[] {"YAML long key", LONG + ": 1"});
      if (!row.route().path().endsWith("/trigger")) {
        // A trigger of no fields is valid (no trigger); every other body has a required field.
        bodies.add(new String[] {"missing fields", "{}"});
      }
      bodies.add(new String[] {"unknown field", base.deepCopy().put("bogusField", 1).toString()});
      bodies.add(new String[] {"unknown field, long", base.deepCopy().put(LONG, 1).toString()});
      base.fieldNames()
          .forEachRemaining(
              field -> {
                List<String> wrongs =
                    base.get(field).isNumber()
                        ? List.of("\"many\"", "-1", "[]", "{\"x\":1}", "true")
                        : base.get(field).isTextual()
                            ? List.of("12345", "[]", "{\"x\":1}", "true")
                            : List.of("12345", "\"many\"", "true");
                for (String wrong : wrongs) {
                  ObjectNode changed = base.deepCopy();
                  changed.set(field, parse(wrong));
                  bodies.add(new String[] {field + "=" + wrong, changed.toString()});
                }
                ObjectNode longValue = base.deepCopy();
                longValue.put(field, LONG);
                bodies.add(new String[] {field + " 10,000 chars", longValue.toString()});
              });
      String garbage = randomText(200);
      bodies.add(new String[] {"random text", garbage});
    }
    for (String[] body : bodies) {
      cases.add(new Case("body " + body[0], row, method, path, body[1], false));
    }
  }

  /** The query parameter a mutation reads ("": none). */
  private static String readsParameter(String template) {
    return switch (template) {
      case "/repos/:repo/commits" -> "branch";
      case "/jobs/:id/rerun" -> "reprocess";
      default -> "";
    };
  }

  /** Each route's path called with each method it was not declared with. */
  private void methodCases(List<Row> rows, Fixture fixture, List<Case> cases) {
    Map<String, Set<String>> declared = new LinkedHashMap<>();
    Map<String, Row> first = new LinkedHashMap<>();
    for (Row row : rows) {
      String key = row.base() + " " + row.route().path();
      declared.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(row.route().method().name());
      first.putIfAbsent(key, row);
    }
    declared.forEach(
        (key, methods) -> {
          Row row = first.get(key);
          for (HttpMethod method :
              List.of(
                  HttpMethod.GET,
                  HttpMethod.POST,
                  HttpMethod.PUT,
                  HttpMethod.DELETE,
                  HttpMethod.PATCH)) {
            if (!methods.contains(method.name())) {
              cases.add(
                  new Case(
                      "wrong method",
                      row,
                      method.name(),
                      StackRoutes.path(row.route().path(), fixture),
                      method == HttpMethod.GET || method == HttpMethod.DELETE ? null : "{}",
                      false));
            }
          }
        });
  }

  /**
   * A valid-looking body of a route that reads one, under a fuzz name (so a wrongly accepted
   * variant would show as a new repo, pipeline or branch), or null when the route reads none.
   */
  private static ObjectNode baseBody(String template, Fixture f, String suffix) {
    return switch (template) {
      case "/repos" -> {
        ObjectNode spec =
            TuskClient.object().put("name", "fz-new-r-" + suffix).put("format", "csv");
        spec.put("defaultTable", SyntheticTable.TABLE).put("partitions", 1);
        spec.putArray("tables")
            .addObject()
            .put("name", SyntheticTable.TABLE)
            .put("memberKey", "MEMBER_ID")
            .putArray("columns")
            .add("MEMBER_ID");
        yield spec;
      }
      case "/repos/:repo" -> SyntheticTable.repoSpec(f.repo(), 1);
      case "/repos/:repo/trigger" -> TuskClient.object().put("everyRows", 1000);
      case "/repos/:repo/branches" ->
          TuskClient.object().put("name", "fz-new-b-" + suffix).put("head", f.commit());
      case "/repos/:repo/branches/:branch" -> TuskClient.object().put("head", f.commit());
      case "/pipelines" -> StackRoutes.pipelineSpec("fz-new-p-" + suffix, f.repo());
      case "/pipelines/:pipeline" -> StackRoutes.pipelineSpec(f.pipeline(), f.repo());
      default -> null;
    };
  }

  /** The body a path or query case is sent with: an empty object on a mutation, else none. */
  private static String bodyFor(Row row) {
    String method = row.route().method().name();
    return method.equals("POST") || method.equals("PUT") ? "{}" : null;
  }

  private static String oversized(int bytes) {
    return "{\"name\":\"" + "a".repeat(bytes) + "\"}";
  }

  /** Billion laughs: nine levels of ten aliases, 10^9 strings if expanded. */
  private static String yamlBomb() {
    StringBuilder yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    char previous = 'a';
    for (char level = 'b'; level <= 'i'; level++) {
      yaml.append(level).append(": &").append(level).append(" [");
      for (int i = 0; i < 10; i++) {
        yaml.append(i == 0 ? "" : ",").append('*').append(previous);
      }
      yaml.append("]\n");
      previous = level;
    }
    return yaml.append("name: *i\n").toString();
  }

  /** Random text of printable, control, non-BMP and reserved characters. */
  private String randomText(int length) {
    StringBuilder text = new StringBuilder();
    String reserved = "/?#[]@!$&'()*+,;=%.:\\\"<>{}|^` ";
    while (text.length() < length) {
      switch (random.nextInt(5)) {
        case 0 -> text.append(reserved.charAt(random.nextInt(reserved.length())));
        case 1 -> text.append((char) random.nextInt(32));
        case 2 -> text.appendCodePoint(0x1F300 + random.nextInt(500));
        case 3 -> text.append((char) (0x4E00 + random.nextInt(2000)));
        default -> text.append((char) ('a' + random.nextInt(26)));
      }
    }
    return text.toString();
  }

  // ---- sending and checking

  private void check(Case c) {
    sent++;
    Answer response;
    try {
      response = send(c);
    } catch (Exception e) {
      if (c.body() != null
          && c.body().length() > BODY_LIMIT
          && !(e instanceof HttpTimeoutException)) {
        // The server may refuse an oversized body before reading it and close the connection
        // while the client still uploads: refused, nothing read, nothing written.
        closedOnOversized++;
        return;
      }
      findings.add(describe(c) + ": no answer (" + e + ")");
      return;
    }
    int status = response.statusCode();
    String body = response.body();
    if (status == 413) {
      answered413++;
    }
    if (status >= 500) {
      findings.add(describe(c) + ": " + status + " " + shorten(body));
    } else if (status == 401 || status == 403) {
      findings.add(describe(c) + ": " + status + " for the admin " + shorten(body));
    } else if (status < 400) {
      if (!c.mayBeValid()) {
        findings.add(describe(c) + ": accepted with " + status + " " + shorten(body));
      }
    } else {
      String problem = jsonErrorProblem(response);
      if (problem != null) {
        findings.add(describe(c) + ": " + status + " " + problem);
      }
    }
  }

  /** What is wrong with a 4xx answer (null: a short JSON {"error","message"}). */
  private static String jsonErrorProblem(Answer response) {
    String body = response.body();
    String type = response.contentType();
    if (!type.startsWith("application/json")) {
      return "not JSON (" + type + "): " + shorten(body);
    }
    if (body.length() > MAX_ERROR_BODY) {
      return "error of " + body.length() + " characters: " + shorten(body);
    }
    try {
      JsonNode error = JSON.readTree(body);
      if (!error.path("error").isTextual() || !error.path("message").isTextual()) {
        return "not {\"error\",\"message\"}: " + shorten(body);
      }
    } catch (Exception e) {
      return "unparseable JSON: " + shorten(body);
    }
    return null;
  }

  /** The status, Content-Type and body of an answer. */
  private record Answer(int statusCode, String contentType, String body) {}

  private Answer send(Case c) throws Exception {
    URI uri;
    try {
      uri = URI.create(c.row().base() + c.path());
    } catch (IllegalArgumentException e) {
      // The JDK's client refuses what is not a URI (e.g. "%ZZ"); a socket sends it anyway.
      return sendRaw(c);
    }
    HttpResponse<String> response = sendRequest(c, uri);
    return new Answer(
        response.statusCode(),
        response.headers().firstValue("Content-Type").orElse(""),
        response.body());
  }

  /** Sends {@code c} as written on a new connection, for request targets that are not URIs. */
  private Answer sendRaw(Case c) throws Exception {
    URI base = URI.create(c.row().base());
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout((int) DEADLINE.toMillis());
      byte[] body = c.body() == null ? new byte[0] : c.body().getBytes(StandardCharsets.UTF_8);
      String head =
          c.method()
              + " "
              + c.path()
              + " HTTP/1.1\r\nHost: "
              + base.getAuthority()
              + "\r\nAuthorization: "
              + authorization
              + "\r\nContent-Type: application/json\r\nContent-Length: "
              + body.length
              + "\r\nConnection: close\r\n\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.UTF_8));
      out.write(body);
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int end = answer.indexOf("\r\n\r\n");
      if (end < 0) {
        throw new IOException("no HTTP answer: " + shorten(answer));
      }
      String[] lines = answer.substring(0, end).split("\r\n");
      String type = "";
      for (String line : lines) {
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-type:")) {
          type = line.substring("content-type:".length()).strip();
        }
      }
      return new Answer(Integer.parseInt(lines[0].split(" ")[1]), type, answer.substring(end + 4));
    }
  }

  private HttpResponse<String> sendRequest(Case c, URI uri) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri).timeout(DEADLINE).header("Authorization", authorization);
    if (c.body() != null) {
      request.header("Content-Type", "application/json");
    }
    request.method(
        c.method(),
        c.body() == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(c.body()));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String describe(Case c) {
    return c.row() + " [" + c.what() + "] " + c.method() + " " + shorten(c.path());
  }

  private static String shorten(String text) {
    if (text == null) {
      return "";
    }
    return text.length() > 160 ? text.substring(0, 160) + "...(" + text.length() + ")" : text;
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(json, e);
    }
  }

  private static boolean isMutation(String method) {
    return !method.equals("GET");
  }

  // ---- what was written

  private static KafkaConsumer<byte[], byte[]> offsetReader(LocalStack stack) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    return new KafkaConsumer<>(props);
  }

  private static Map<TopicPartition, Long> endOffsets(KafkaConsumer<byte[], byte[]> consumer) {
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : WATCHED) {
      consumer
          .partitionsFor(topic, Duration.ofSeconds(30))
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    }
    return new java.util.TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString)) {
      {
        putAll(consumer.endOffsets(partitions, Duration.ofSeconds(30)));
      }
    };
  }

  /** Every repo and pipeline name the commit service knows. */
  private static Set<String> names(TuskClient admin) {
    Set<String> names = new TreeSet<>();
    admin.commitGet("/repos").forEach(r -> names.add("repo " + r.path("name").asText()));
    admin.commitGet("/pipelines").forEach(p -> names.add("pipeline " + p.path("name").asText()));
    return names;
  }
}
