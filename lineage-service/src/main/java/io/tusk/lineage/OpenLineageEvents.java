package io.tusk.lineage;

import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;

/**
 * OpenLineage run events of Tusk jobs (spec 2-0-2): the job is the pipeline, the run is the job
 * (run ID = the job ID as a UUID), the input dataset is the input repo's updates topic at the input
 * commit, the output dataset the pipeline's output topic at this job.
 */
final class OpenLineageEvents {
  /** Who produces the events. */
  static final String PRODUCER = "https://github.com/tusk/tusk";

  static final String RUN_EVENT_SCHEMA =
      "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
  static final String VERSION_FACET_SCHEMA =
      "https://openlineage.io/spec/facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet";
  static final String ERROR_FACET_SCHEMA =
      "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";
  static final String JOB_TYPE_FACET_SCHEMA =
      "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";

  /** Schema of Tusk's own run facet with the job's counts. */
  static final String TUSK_JOB_FACET_SCHEMA =
      "https://github.com/tusk/tusk/blob/main/docs/openlineage/TuskJobRunFacet.json";

  /** The event types a job goes through. */
  enum Type {
    START,
    COMPLETE,
    FAIL
  }

  private final OpenLineageSettings settings;
  private final Function<String, String> updatesTopicOfRepo;

  /**
   * @param updatesTopicOfRepo the topic a repo's rows arrive on (a derived repo's is an output
   *     topic)
   */
  OpenLineageEvents(OpenLineageSettings settings, Function<String, String> updatesTopicOfRepo) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.updatesTopicOfRepo = Objects.requireNonNull(updatesTopicOfRepo, "updatesTopicOfRepo");
  }

  /** The event types {@code job} has reached, in order: START, then COMPLETE or FAIL. */
  static java.util.List<Type> reached(Job job) {
    JobState state = job.getState();
    if (state == JobState.SUCCESS) {
      return java.util.List.of(Type.START, Type.COMPLETE);
    }
    if (state == JobState.FAILURE || state == JobState.KILLED) {
      return java.util.List.of(Type.START, Type.FAIL);
    }
    return state == JobState.RUNNING ? java.util.List.of(Type.START) : java.util.List.of();
  }

  /** The run event of {@code type} for {@code job}, at {@code now} unless the job says when. */
  JsonObject event(Type type, Job job, long now) {
    long time =
        type == Type.START
            ? job.getCreatedAt()
            : job.getFinishedAt() != null ? job.getFinishedAt() : now;
    JsonObject runFacets = new JsonObject().put("tusk_job", tuskFacet(job));
    if (type == Type.FAIL) {
      runFacets.put(
          "errorMessage",
          facet(ERROR_FACET_SCHEMA)
              .put("message", errorMessage(job))
              .put("programmingLanguage", "java"));
    }
    return new JsonObject()
        .put("eventType", type.name())
        .put("eventTime", Instant.ofEpochMilli(time).toString())
        .put("run", new JsonObject().put("runId", runId(job.getId())).put("facets", runFacets))
        .put(
            "job",
            new JsonObject()
                .put("namespace", settings.namespace())
                .put("name", job.getPipeline())
                .put(
                    "facets",
                    new JsonObject()
                        .put(
                            "jobType",
                            facet(JOB_TYPE_FACET_SCHEMA)
                                .put("processingType", "BATCH")
                                .put("integration", "TUSK")
                                .put("jobType", "JOB"))))
        .put(
            "inputs",
            new JsonArray()
                .add(dataset(updatesTopicOfRepo.apply(job.getRepo()), job.getCommitId())))
        .put(
            "outputs",
            new JsonArray().add(dataset(TopicNames.output(job.getPipeline()), job.getId())))
        .put("producer", PRODUCER)
        .put("schemaURL", RUN_EVENT_SCHEMA);
  }

  /** A Tusk ID (32 hex characters) as a UUID: 8-4-4-4-12. */
  static String runId(String id) {
    return id.substring(0, 8)
        + "-"
        + id.substring(8, 12)
        + "-"
        + id.substring(12, 16)
        + "-"
        + id.substring(16, 20)
        + "-"
        + id.substring(20, 32);
  }

  private JsonObject dataset(String topic, String version) {
    return new JsonObject()
        .put("namespace", settings.datasetNamespace())
        .put("name", topic)
        .put(
            "facets",
            new JsonObject()
                .put("version", facet(VERSION_FACET_SCHEMA).put("datasetVersion", version)));
  }

  private static JsonObject tuskFacet(Job job) {
    return facet(TUSK_JOB_FACET_SCHEMA)
        .put("jobId", job.getId())
        .put("globalId", job.getGlobalId())
        .put("repo", job.getRepo())
        .put("commitId", job.getCommitId())
        .put("state", job.getState().name())
        .put("kind", job.getKind().name())
        .put("mode", job.getMode().name())
        .put("rerunOf", job.getRerunOf())
        .put("total", job.getTotal())
        .put("toProcess", job.getToProcess())
        .put("processed", job.getProcessed())
        .put("skipped", job.getSkipped())
        .put("failed", job.getFailed())
        .put("recovered", job.getRecovered())
        .put("identical", job.getIdentical())
        .put("different", job.getDifferent())
        .put("error", job.getError());
  }

  private static String errorMessage(Job job) {
    if (job.getError() != null) {
      return job.getError();
    }
    return job.getState() == JobState.KILLED
        ? "job killed"
        : job.getFailed() + " of " + job.getToProcess() + " datums failed";
  }

  private static JsonObject facet(String schemaUrl) {
    return new JsonObject().put("_producer", PRODUCER).put("_schemaURL", schemaUrl);
  }
}
