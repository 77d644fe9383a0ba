package io.tusk.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.common.Ids;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A client of Tusk's HTTP APIs (commit service and lineage service), used by the CLI, the demo, the
 * benchmark and the end-to-end tests. Every request carries the bearer token it was made with
 * ({@link Tokens} finds the CLI's). Errors come back as {@link ApiError} with the service's JSON
 * error message.
 */
public final class TuskClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String commitUrl;
  private final String lineageUrl;
  private final String token;
  private final HttpClient http;

  /**
   * @param token the bearer token sent with every request; null or empty: none (every endpoint but
   *     /health then answers 401)
   */
  public TuskClient(String commitUrl, String lineageUrl, String token) {
    this(commitUrl, lineageUrl, token, null);
  }

  /**
   * As {@link #TuskClient(String, String, String)}, for services served over HTTPS: their
   * certificates are verified against the JVM's trust store plus the CA certificates in {@code
   * caFile} (PEM; null: none), host names included.
   */
  public TuskClient(String commitUrl, String lineageUrl, String token, Path caFile) {
    this.commitUrl = Objects.requireNonNull(commitUrl, "commitUrl");
    this.lineageUrl = Objects.requireNonNull(lineageUrl, "lineageUrl");
    this.token = token == null || token.isBlank() ? null : token.strip();
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
    if (caFile != null) {
      builder.sslContext(TrustedCertificates.sslContext(caFile));
    }
    this.http = builder.build();
  }

  /** The value of the Authorization header this client sends, or null without a token. */
  public String authorization() {
    return token == null ? null : "Bearer " + token;
  }

  /** A JSON error answer of a Tusk service. */
  public static final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    ApiError(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }

    /**
     * True when the service could not be reached at all (refused, reset, timed out) or its gateway
     * could not reach the service behind it (502, 504): a service restarting, worth asking again.
     */
    public boolean unreachable() {
      return status == UNREACHABLE || status == 502 || status == 504;
    }
  }

  /** {@link ApiError#status()} of a request that reached no service. */
  private static final int UNREACHABLE = -2;

  /** A new empty JSON object to build request bodies with. */
  public static ObjectNode object() {
    return JSON.createObjectNode();
  }

  /** GET a path (with its query string) of the commit service. */
  public JsonNode commitGet(String pathAndQuery) {
    return send("GET", commitUrl + pathAndQuery, null);
  }

  /** Sends a request with a JSON body (or none) to the commit service. */
  public JsonNode commitSend(String method, String pathAndQuery, JsonNode body) {
    return send(method, commitUrl + pathAndQuery, body);
  }

  /** Sends a document (e.g. a YAML pipeline spec) with its content type to the commit service. */
  public JsonNode commitSendDocument(
      String method, String pathAndQuery, String body, String contentType) {
    return send(method, commitUrl + pathAndQuery, body, contentType);
  }

  /** GET a path (with its query string) of the lineage service. */
  public JsonNode lineageGet(String pathAndQuery) {
    return send("GET", lineageUrl + pathAndQuery, null);
  }

  /** A path segment, URL-encoded. */
  public static String segment(String value) {
    return encode(value);
  }

  public JsonNode createRepo(JsonNode spec) {
    return send("POST", commitUrl + "/repos", spec);
  }

  public JsonNode createPipeline(JsonNode spec) {
    return send("POST", commitUrl + "/pipelines", spec);
  }

  /** Seals the next commit of {@code repo} on master ({@link #seal}). */
  public JsonNode commit(String repo) {
    return seal(repo, "master");
  }

  /** How long a seal is asked again while the commit service cannot be reached. */
  private static final Duration SEAL_RETRY = Duration.ofMinutes(2);

  /**
   * Seals the next commit of {@code branch} of {@code repo}, exactly once: the request carries a
   * fresh {@code Idempotency-Key}, and while the commit service cannot be reached (restarting) or
   * answers 503 it is sent again with the same key for up to {@link #SEAL_RETRY}, so a seal whose
   * answer was lost is answered with its commit instead of sealing a second one.
   */
  public JsonNode seal(String repo, String branch) {
    String url = commitUrl + "/repos/" + encode(repo) + "/commits?branch=" + encode(branch);
    Map<String, String> key = Map.of("Idempotency-Key", java.util.UUID.randomUUID().toString());
    return poll(
        () -> send("POST", url, object().toString(), "application/json", key),
        answer -> true,
        e -> e.unreachable() || e.status() == 503,
        SEAL_RETRY,
        "a seal of " + repo);
  }

  public JsonNode commit(String repo, String id) {
    return send("GET", commitUrl + "/repos/" + encode(repo) + "/commits/" + encode(id), null);
  }

  public JsonNode commits(String repo) {
    return send("GET", commitUrl + "/repos/" + encode(repo) + "/commits", null);
  }

  public JsonNode pipelines() {
    return send("GET", commitUrl + "/pipelines", null);
  }

  /** A job's state and counts, from the lineage service. */
  public JsonNode job(String id) {
    return send("GET", lineageUrl + "/jobs/" + encode(id), null);
  }

  /** A commit and the jobs it triggered, from the lineage service. */
  public JsonNode lineageCommit(String id) {
    return send("GET", lineageUrl + "/commits/" + encode(id), null);
  }

  public JsonNode output(String pipeline, String member) {
    return send(
        "GET", lineageUrl + "/pipelines/" + encode(pipeline) + "/outputs/" + encode(member), null);
  }

  public JsonNode lineage(String pipeline, String member) {
    return send(
        "GET",
        lineageUrl + "/pipelines/" + encode(pipeline) + "/outputs/" + encode(member) + "/lineage",
        null);
  }

  /**
   * Where an output came from: its job, input commit and input rows, following rows of upstream
   * pipelines' outputs ({@code GET .../provenance}). Null arguments take the service's defaults.
   *
   * @param at an input commit ID: the output as of that commit
   */
  public JsonNode provenance(
      String pipeline, String member, String at, Integer depth, boolean content, Integer limit) {
    return send(
        "GET",
        outputUrl(pipeline, member, "/provenance")
            + query("at", at, "depth", depth, "content", content ? "true" : null, "limit", limit),
        null);
  }

  /** Every version of a member's output, newest first ({@code GET .../history}). */
  public JsonNode outputHistory(String pipeline, String member, Integer limit, String after) {
    return send(
        "GET",
        outputUrl(pipeline, member, "/history") + query("limit", limit, "after", after),
        null);
  }

  /**
   * What changed between two versions of a member's output ({@code GET .../changes}); null jobs
   * mean the latest version and the one before it.
   */
  public JsonNode outputChanges(String pipeline, String member, String fromJob, String toJob) {
    return send(
        "GET", outputUrl(pipeline, member, "/changes") + query("from", fromJob, "to", toJob), null);
  }

  /** Every output version derived from a source member, breadth first across the DAG. */
  public JsonNode memberSubvenance(
      String repo, String member, Integer depth, Integer limit, String after) {
    return send(
        "GET",
        lineageUrl
            + "/repos/"
            + encode(repo)
            + "/members/"
            + encode(member)
            + "/subvenance"
            + query("depth", depth, "limit", limit, "after", after),
        null);
  }

  /** Every output version derived from one row (of a source repo or of a pipeline's output). */
  public JsonNode rowSubvenance(
      String topic, int partition, long offset, Integer depth, Integer limit, String after) {
    return send(
        "GET",
        lineageUrl
            + "/rows/"
            + encode(topic)
            + "/"
            + partition
            + "/"
            + offset
            + "/subvenance"
            + query("depth", depth, "limit", limit, "after", after),
        null);
  }

  /**
   * The global ID {@code ref} names: a full ID as it is; otherwise the global ID of the commit it
   * names for the commit service's {@code GET /commits/{id}} (a unique prefix of a commit ID), so
   * {@code tusk wait} and {@code tusk lineage global} take what {@code tusk log} prints.
   */
  public String globalIdOf(String ref) {
    if (Ids.isValid(ref)) {
      return ref;
    }
    return send("GET", commitUrl + "/commits/" + encode(ref), null).path("globalId").asText();
  }

  /**
   * The commits and jobs of a global ID (a source commit and everything it caused downstream) and
   * their overall state.
   */
  public JsonNode global(String globalId) {
    return send("GET", lineageUrl + "/global/" + encode(globalId), null);
  }

  /** Who the token is, whether admin, and its role bindings ({@code GET /auth/whoami}). */
  public JsonNode whoami() {
    return send("GET", commitUrl + "/auth/whoami", null);
  }

  /** The role bindings on {@code resource} (null: every binding, for admins). */
  public JsonNode bindings(String resource) {
    return send(
        "GET",
        commitUrl + "/auth/bindings" + (resource == null ? "" : "/" + encode(resource)),
        null);
  }

  /** Grants {@code role} on {@code resource} to {@code subject}. */
  public JsonNode grant(String resource, String role, String subject) {
    return send("PUT", bindingUrl(resource, role, subject), null);
  }

  /** Revokes {@code role} on {@code resource} from {@code subject}. */
  public JsonNode revoke(String resource, String role, String subject) {
    return send("DELETE", bindingUrl(resource, role, subject), null);
  }

  /** Audit events from {@code since} (an ISO time; null: the last 24 hours), oldest first. */
  public JsonNode audit(String since, Integer limit) {
    return send("GET", commitUrl + "/audit" + query("since", since, "limit", limit), null);
  }

  /**
   * Erases a member of a repo ({@code POST /repos/{repo}/members/{member}/erasure}, admins only):
   * seals the erasure commit and answers the request.
   */
  public JsonNode erase(String repo, String member, String reason, String branch) {
    ObjectNode body = object().put("reason", reason);
    if (branch != null) {
      body.put("branch", branch);
    }
    return send(
        "POST",
        commitUrl + "/repos/" + encode(repo) + "/members/" + encode(member) + "/erasure",
        body);
  }

  /** An erasure request's state, jobs and evidence. */
  public JsonNode erasure(String id) {
    return send("GET", commitUrl + "/erasures/" + encode(id), null);
  }

  /** The erasure log (of one repo, or all with null). */
  public JsonNode erasures(String repo) {
    return send("GET", commitUrl + "/erasures" + query("repo", repo), null);
  }

  /** Scans every place for the member an erasure request names (the key is checked first). */
  public JsonNode verifyErasure(String id, String member) {
    return send(
        "POST", commitUrl + "/erasures/" + encode(id) + "/verify", object().put("member", member));
  }

  private String bindingUrl(String resource, String role, String subject) {
    return commitUrl
        + "/auth/bindings/"
        + encode(resource)
        + "/"
        + encode(role)
        + "/"
        + encode(subject);
  }

  /** Waits until the job is known to the lineage service and has ended (success or failure). */
  public JsonNode awaitJobEnd(String jobId, Duration timeout) {
    return await(() -> job(jobId), TuskClient::jobEnded, timeout, "job " + jobId + " to end");
  }

  /** Whether a job as {@link #job} answers it has ended: SUCCESS, FAILURE or KILLED. */
  public static boolean jobEnded(JsonNode job) {
    String state = job.path("state").asText();
    return state.equals("SUCCESS") || state.equals("FAILURE") || state.equals("KILLED");
  }

  /** Waits until the commit-service reports the commit complete (its stats are known). */
  public JsonNode awaitCommitComplete(String repo, String commitId, Duration timeout) {
    return await(
        () -> commit(repo, commitId),
        TuskClient::commitComplete,
        timeout,
        "commit " + commitId + " to complete");
  }

  /** Whether a commit as {@link #commit(String, String)} answers it is complete. */
  public static boolean commitComplete(JsonNode commit) {
    return "complete".equals(commit.path("state").asText());
  }

  /**
   * Polls {@code call} until {@code done} holds; 404 and 503 answers count as "not yet", and so
   * does a service that cannot be reached (restarting) until the timeout.
   *
   * @throws IllegalStateException when {@code timeout} passes
   */
  public static JsonNode await(
      java.util.function.Supplier<JsonNode> call,
      Predicate<JsonNode> done,
      Duration timeout,
      String what) {
    return poll(
        call, done, e -> e.status() == 404 || e.status() == 503 || e.unreachable(), timeout, what);
  }

  /**
   * Calls {@code call} until {@code done} holds, pausing between calls (20 ms doubling to 250 ms);
   * an {@link ApiError} that {@code notYet} accepts counts as "not yet", any other is thrown.
   *
   * @throws IllegalStateException when {@code timeout} passes, naming the last answer and error
   */
  private static JsonNode poll(
      java.util.function.Supplier<JsonNode> call,
      Predicate<JsonNode> done,
      Predicate<ApiError> notYet,
      Duration timeout,
      String what) {
    Instant deadline = Instant.now().plus(timeout);
    JsonNode last = null;
    String lastError = null;
    long pause = 20;
    while (Instant.now().isBefore(deadline)) {
      try {
        last = call.get();
        if (done.test(last)) {
          return last;
        }
      } catch (ApiError e) {
        if (!notYet.test(e)) {
          throw e;
        }
        lastError = e.getMessage();
      }
      try {
        Thread.sleep(pause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for " + what, e);
      }
      pause = Math.min(250, pause * 2);
    }
    throw new IllegalStateException(
        "timed out after "
            + timeout
            + " waiting for "
            + what
            + "; last answer: "
            + last
            + (lastError == null ? "" : "; last error: " + lastError));
  }

  private JsonNode send(String method, String url, JsonNode body) {
    return send(method, url, body == null ? null : body.toString(), "application/json");
  }

  private JsonNode send(String method, String url, String body, String contentType) {
    return send(method, url, body, contentType, Map.of());
  }

  private JsonNode send(
      String method, String url, String body, String contentType, Map<String, String> headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .header("Accept", "application/json");
    headers.forEach(request::header);
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", contentType)
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    try {
      HttpResponse<String> response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = response.body().isBlank() ? object() : JSON.readTree(response.body());
      if (response.statusCode() / 100 != 2) {
        throw new ApiError(
            response.statusCode(),
            method
                + " "
                + url
                + " -> "
                + response.statusCode()
                + ": "
                + json.path("message").asText(response.body())
                + (response.statusCode() == 401 ? Tokens.HINT : ""));
      }
      return json;
    } catch (javax.net.ssl.SSLException e) {
      throw new ApiError(
          -1,
          method
              + " "
              + url
              + " failed: the service's certificate is not trusted or does not match ("
              + e.getMessage()
              + "; give its CA with TUSK_CA_FILE or --ca-file)");
    } catch (IOException e) {
      // A refused connection comes without a message: say what it means.
      String reason =
          e.getMessage() != null
              ? e.getMessage()
              : e instanceof java.net.ConnectException
                  ? "connection refused (is the service running there?)"
                  : e.getClass().getSimpleName();
      throw new ApiError(UNREACHABLE, method + " " + url + " failed: " + reason);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(-1, method + " " + url + " interrupted");
    }
  }

  private String outputUrl(String pipeline, String member, String suffix) {
    return lineageUrl + "/pipelines/" + encode(pipeline) + "/outputs/" + encode(member) + suffix;
  }

  /** A query string of the pairs whose value is not null ("" if none). */
  private static String query(Object... pairs) {
    StringBuilder query = new StringBuilder();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      if (pairs[i + 1] != null) {
        query
            .append(query.length() == 0 ? '?' : '&')
            .append(pairs[i])
            .append('=')
            .append(encode(pairs[i + 1].toString()));
      }
    }
    return query.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
