package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.TuskServices;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.security.SecuredRouter;
import io.tusk.localstack.LocalStack;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the route-wide ITs (the access matrix, the HTTP input fuzz) share: every declared route of
 * the commit, partition and lineage services with where it listens, and a real repo with rows of
 * two members, a pipeline over it, one commit and its finished job for the routes to be called
 * about.
 */
public final class StackRoutes {
  private static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static final Pattern PARAM = Pattern.compile(":([A-Za-z]+)");

  private StackRoutes() {}

  /** A route of a service, with where it listens. */
  public record Row(String service, String base, SecuredRouter.Declared route) {
    @Override
    public String toString() {
      return service + " " + route;
    }
  }

  /** The things the routes are called about. */
  public record Fixture(String repo, String pipeline, String member, String commit, String job) {

    /** The valid value of path parameter {@code param} of route {@code template}. */
    public String value(String template, String param) {
      return switch (param) {
        case "repo" -> repo;
        case "pipeline" -> pipeline;
        case "member" -> member;
        case "branch" -> "master";
        case "id" -> template.startsWith("/jobs/") ? job : commit;
        case "resource" -> "repo:" + repo;
        case "role" -> "reader";
        case "subject" -> "matrix-granted";
        case "topic" -> repo + ".updates";
        case "partition", "offset" -> "0";
        default -> throw new IllegalStateException("no value for :" + param);
      };
    }
  }

  /**
   * Every declared route of the three services, after checking that none of their routers holds a
   * route that was not declared (it would skip the route-wide checks).
   */
  public static List<Row> declared(TuskServices services) {
    List<Row> rows = new ArrayList<>();
    add(rows, "commit", services.commitUrl(), services.commitService().routes());
    add(rows, "lineage", services.lineageUrl(), services.lineageService().routes());
    add(
        rows,
        "partition",
        "http://127.0.0.1:" + services.partitionPort(),
        services.partitionService().routes());
    return rows;
  }

  private static void add(List<Row> rows, String service, String base, SecuredRouter routes) {
    assertThat(routes.undeclaredRoutes())
        .as("routes of the %s service not declared", service)
        .isEmpty();
    routes.routes().forEach(route -> rows.add(new Row(service, base, route)));
  }

  /**
   * A repo named {@code prefix-suffix} with rows of two members (M1, M2), a pipeline {@code
   * prefix-p-suffix} over it, one commit and its finished job whose output of M1 is indexed.
   */
  public static Fixture fixture(LocalStack stack, TuskClient admin, String prefix, String suffix)
      throws Exception {
    String repo = prefix + "-" + suffix;
    String pipeline = prefix + "-p-" + suffix;
    admin.createRepo(SyntheticTable.repoSpec(repo, 1));
    admin.createPipeline(pipelineSpec(pipeline, repo));
    KafkaSettings settings =
        KafkaSettings.of(stack.bootstrapServers(), stack.registryUrl(), prefix + "-" + suffix);
    try (RowLoader loader = new RowLoader(settings, repo)) {
      loader.send(SyntheticTable.TABLE, "M1", "1,M1,claim,100001,2024-01-02,10.00");
      loader.send(SyntheticTable.TABLE, "M2", "2,M2,drug,100002,2024-01-03,5.50");
      loader.flush();
    }
    JsonNode commit = admin.commit(repo);
    String commitId = commit.path("id").asText();
    String jobId = commit.path("jobs").get(0).path("jobId").asText();
    JsonNode job = admin.awaitJobEnd(jobId, TIMEOUT);
    assertThat(job.path("state").asText()).isEqualTo("SUCCESS");
    TuskClient.await(
        () -> admin.outputHistory(pipeline, "M1", null, null),
        h -> h.path("outputs").size() == 1,
        TIMEOUT,
        "M1's output indexed");
    return new Fixture(repo, pipeline, "M1", commitId, jobId);
  }

  /** The spec of a pipeline running the built-in member-summary transform over {@code repo}. */
  public static ObjectNode pipelineSpec(String name, String repo) {
    ObjectNode spec = TuskClient.object().put("name", name).put("parallelism", 1);
    spec.putObject("input").put("repo", repo);
    spec.putObject("transform").put("java", "member-summary");
    return spec;
  }

  /** The path parameters of a route template, in order. */
  public static List<String> params(String template) {
    List<String> names = new ArrayList<>();
    Matcher matcher = PARAM.matcher(template);
    while (matcher.find()) {
      names.add(matcher.group(1));
    }
    return names;
  }

  /** The route's path with the fixture's values in its parameters. */
  public static String path(String template, Fixture fixture) {
    return path(template, param -> fixture.value(template, param));
  }

  /**
   * The route's path with {@code values} (already encoded for a path) in its parameters; a trailing
   * {@code *} is a file of the web page.
   */
  public static String path(String template, UnaryOperator<String> values) {
    if (template.endsWith("/*")) {
      return template.substring(0, template.length() - 1) + "app.js";
    }
    Matcher matcher = PARAM.matcher(template);
    StringBuilder path = new StringBuilder();
    while (matcher.find()) {
      matcher.appendReplacement(path, Matcher.quoteReplacement(values.apply(matcher.group(1))));
    }
    matcher.appendTail(path);
    return path.toString();
  }
}
