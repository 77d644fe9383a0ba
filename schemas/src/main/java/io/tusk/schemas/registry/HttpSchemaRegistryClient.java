package io.tusk.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SchemaRegistryClient} speaking the Confluent Schema Registry REST API over HTTP. Works
 * against Confluent Schema Registry, Karapace, Redpanda and Apicurio Registry ({@code
 * /apis/ccompat/v7}).
 *
 * <p>Registrations and schemas by ID are cached for the life of the client, so a serializer
 * registers a subject's schema once and a deserializer fetches each unknown ID once, however many
 * records carry it.
 */
public final class HttpSchemaRegistryClient implements SchemaRegistryClient {
  private static final Logger log = LoggerFactory.getLogger(HttpSchemaRegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final HttpClient http;
  private final Duration timeout;
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();

  /**
   * @param baseUrl the API root, e.g. {@code http://127.0.0.1:8081} for Confluent or {@code
   *     http://127.0.0.1:8080/apis/ccompat/v7} for Apicurio
   */
  public HttpSchemaRegistryClient(String baseUrl) {
    this(baseUrl, Duration.ofSeconds(30));
  }

  public HttpSchemaRegistryClient(String baseUrl, Duration timeout) {
    Objects.requireNonNull(baseUrl, "baseUrl");
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public int register(String subject, Schema schema) {
    return idsBySubjectAndSchema.computeIfAbsent(
        cacheKey(subject, schema),
        k -> {
          JsonNode body =
              call("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema));
          int id = body.path("id").asInt(-1);
          if (id < 0) {
            throw new SchemaRegistryException(
                "registry returned no id for subject " + subject, 200, -1);
          }
          schemasById.putIfAbsent(id, schema);
          log.debug(
              "Registered schema {} under subject {} as id {}", schema.getFullName(), subject, id);
          return id;
        });
  }

  @Override
  public Schema getById(int id) {
    return schemasById.computeIfAbsent(
        id, k -> parse(call("GET", "/schemas/ids/" + id, null).path("schema").asText()));
  }

  @Override
  public OptionalInt lookup(String subject, Schema schema) {
    Integer cached = idsBySubjectAndSchema.get(cacheKey(subject, schema));
    if (cached != null) {
      return OptionalInt.of(cached);
    }
    try {
      int id = call("POST", "/subjects/" + encode(subject), schemaBody(schema)).path("id").asInt();
      idsBySubjectAndSchema.put(cacheKey(subject, schema), id);
      return OptionalInt.of(id);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        return OptionalInt.empty();
      }
      throw e;
    }
  }

  @Override
  public RegisteredSchema latest(String subject) {
    JsonNode body = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
    Schema schema = parse(body.path("schema").asText());
    int id = body.path("id").asInt();
    schemasById.putIfAbsent(id, schema);
    return new RegisteredSchema(subject, id, body.path("version").asInt(), schema);
  }

  /** Sets the compatibility level of one subject, or globally when {@code subject} is null. */
  public void setCompatibility(String subject, String level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level);
    call("PUT", subject == null ? "/config" : "/config/" + encode(subject), body.toString());
  }

  /** HTTP requests made so far (lets tests prove that caching works). */
  public long requestCount() {
    return requests.get();
  }

  private JsonNode call(String method, String path, String body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl + path))
            .timeout(timeout)
            .header("Accept", CONTENT_TYPE + ", application/json");
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", CONTENT_TYPE)
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    requests.incrementAndGet();
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new SchemaRegistryException(method + " " + path + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException(method + " " + path + " interrupted", e);
    }
    JsonNode json = readJson(response.body());
    if (response.statusCode() / 100 != 2) {
      throw new SchemaRegistryException(
          method
              + " "
              + path
              + " -> HTTP "
              + response.statusCode()
              + ": "
              + json.path("message").asText(response.body()),
          response.statusCode(),
          json.path("error_code").asInt(-1));
    }
    return json;
  }

  private static JsonNode readJson(String body) {
    try {
      return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.createObjectNode().put("message", body);
    }
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private static Schema parse(String schema) {
    return new Schema.Parser().parse(schema);
  }

  private static String cacheKey(String subject, Schema schema) {
    return subject + '\u0000' + schema.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
