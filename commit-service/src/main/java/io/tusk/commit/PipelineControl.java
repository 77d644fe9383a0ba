package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tusk.common.http.ApiException;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.JobKind;
import io.tusk.schemas.JobMode;
import io.tusk.schemas.JobRef;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.vertx.core.Future;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pipelines: creation with their topics, updates, deletion. Changes run in the queue of the
 * pipeline's input repo (see {@link ControlPlane}), so the jobs they start are ordered with that
 * repo's seals and branch moves.
 *
 * <p>A pipeline whose input is another pipeline's outputs reads the repo derived from them (see
 * docs/versioning-and-processing.md), created with the first pipeline that reads it.
 *
 * <p>As in Pachyderm, a pipeline created on a branch that has a head processes it at once: a full
 * job of kind UPDATE at the head (a spec change from nothing); an update starts the same job at the
 * head unless the spec keeps its outputs ({@code keepOutputsOnUpdate}).
 */
final class PipelineControl {
  private static final Logger log = LoggerFactory.getLogger(PipelineControl.class);

  /** The one table of a repo derived from a pipeline's outputs. */
  static final String DERIVED_TABLE = "output";

  /**
   * Attempts to describe an upstream output topic created moments ago: 100 x 300 ms. A loaded
   * 2-core machine took longer than 3 s (TuskCommandIT's demo failed on the old 10 attempts).
   */
  private static final int DESCRIBE_ATTEMPTS = 100;

  private static final long DESCRIBE_BACKOFF_MS = 300;

  private final ControlPlane control;
  private final int memberPartitions;
  private final Counter pipelineCounter;

  /** A pipeline as written, with the job its change started (null: none). */
  record PipelineChange(PipelineSpec spec, ControlPlane.StartedJob job) {}

  /**
   * @param memberPartitions the deployment's member partition count ({@code
   *     TUSK_MEMBER_PARTITIONS}), or 0 when each repo chooses
   */
  PipelineControl(ControlPlane control, int memberPartitions, MeterRegistry metrics) {
    this.control = control;
    this.memberPartitions = memberPartitions;
    this.pipelineCounter =
        Counter.builder("tusk.pipelines.created")
            .description("Pipelines created")
            .register(metrics);
  }

  /** The pipeline named by a path parameter: 400 for an invalid name, 404 for an unknown one. */
  PipelineSpec pipeline(String name) {
    Requests.name("pipeline", name);
    return control
        .pipelines
        .get(name)
        .orElseThrow(() -> ApiException.notFound("no pipeline '" + name + "'"));
  }

  /** Creates a pipeline and its topics, and processes its input branch's head if it has one. */
  Future<PipelineChange> create(PipelineSpec spec) {
    String name = spec.getName();
    requireInput(spec);
    control.requireFreeName(name);
    return control.tasks.submit(
        ControlPlane.repoQueue(spec.getInputRepo()),
        () -> {
          requireInput(spec);
          ensureDerivedRepo(spec);
          control.reserveName(name);
          try {
            // The spec goes first, as for repos; the processor checks the transform.
            control.write(control.topics.pipelines, name, spec);
            control.topicAdmin.createPipelineTopics(spec, control.inputRetention(spec));
            control.pipelines.put(name, spec);
          } finally {
            control.releaseName(name);
          }
          pipelineCounter.increment();
          log.info(
              "Created pipeline {} on repo {} branch {} (transform {} {}, parallelism {})",
              name,
              spec.getInputRepo(),
              spec.getInputBranch(),
              spec.getTransform().getKind(),
              spec.getTransform().getName(),
              spec.getParallelism());
          return new PipelineChange(spec, jobAtHead(spec));
        });
  }

  /**
   * Updates a pipeline: version + 1, and a full job at its input branch's head (the new spec hash
   * makes every datum new) unless the new spec keeps its outputs.
   *
   * @param parsed the spec document read as an update of the current spec
   */
  Future<PipelineChange> update(PipelineSpec parsed) {
    String name = parsed.getName();
    PipelineSpec current = pipeline(name);
    requireSameParallelism(current, parsed);
    requireInput(parsed);
    return control.tasks.submit(
        ControlPlane.repoQueue(parsed.getInputRepo()),
        () -> {
          PipelineSpec previous = pipeline(name);
          requireSameParallelism(previous, parsed);
          requireInput(parsed);
          ensureDerivedRepo(parsed);
          PipelineSpec updated =
              PipelineSpec.newBuilder(parsed)
                  .setVersion(previous.getVersion() + 1)
                  .setCreatedAt(previous.getCreatedAt())
                  .setUpdatedAt(System.currentTimeMillis())
                  .setKeptSpecHashes(keptSpecHashes(previous, parsed))
                  .build();
          control.write(control.topics.pipelines, name, updated);
          control.pipelines.put(name, updated);
          log.info(
              "Updated pipeline {} to version {} (spec hash {} -> {}, keep outputs: {})",
              name,
              updated.getVersion(),
              previous.getSpecHash(),
              updated.getSpecHash(),
              updated.getKeepOutputsOnUpdate());
          return new PipelineChange(
              updated, updated.getKeepOutputsOnUpdate() ? null : jobAtHead(updated));
        });
  }

  /**
   * Deletes a pipeline's spec (409 while another pipeline reads its outputs). Its topics and the
   * repos derived from its outputs stay: outputs and lineage remain readable, and a pipeline
   * created again under the name reuses them.
   */
  Future<Void> delete(String name) {
    PipelineSpec spec = pipeline(name);
    requireNoReaders(name);
    return control.tasks.submit(
        ControlPlane.repoQueue(spec.getInputRepo()),
        () -> {
          pipeline(name);
          requireNoReaders(name);
          control.write(control.topics.pipelines, name, null);
          control.pipelines.remove(name);
          log.info("Deleted pipeline {}", name);
          return null;
        });
  }

  /**
   * Creates the input branch if it does not exist (as Pachyderm does) and starts a full job of kind
   * UPDATE at its head, if it has one.
   */
  private ControlPlane.StartedJob jobAtHead(PipelineSpec spec) {
    String repoName = spec.getInputRepo();
    RepoSpec repo = control.repo(repoName);
    String key = TopicNames.branchKey(repoName, spec.getInputBranch());
    Branch branch = control.branches.get(key).orElse(null);
    if (branch == null) {
      Branch created = CommitSealer.branchAt(repoName, spec.getInputBranch(), null);
      control.sealer.writeBranch(repo, created, null, List.of());
      control.branches.put(key, created);
      return null;
    }
    if (branch.getHead() == null) {
      return null;
    }
    Commit head = control.commitOf(repoName, "head", branch.getHead());
    JobRef job = ControlPlane.jobRef(spec, JobKind.UPDATE, JobMode.FULL);
    control.sealer.requestJobs(repo, head, List.of(job));
    return new ControlPlane.StartedJob(repoName, head.getId(), job);
  }

  /**
   * 400 unless the input repo exists, or for a pipeline input, the upstream pipeline; 409 if the
   * derived repo's name belongs to a pipeline or to a repo that is not that derived repo.
   */
  private void requireInput(PipelineSpec spec) {
    if (spec.getInputPipeline() != null) {
      if (control.pipelines.get(spec.getInputPipeline()).isEmpty()) {
        throw ApiException.badRequest(
            "input.pipeline '" + spec.getInputPipeline() + "' is not an existing pipeline");
      }
      String derived = spec.getInputRepo();
      if (control.pipelines.get(derived).isPresent()) {
        throw ApiException.conflict(
            "the derived repo name '" + derived + "' is the name of a pipeline");
      }
      control
          .repos
          .get(derived)
          .filter(repo -> !isDerived(repo, spec.getInputPipeline(), spec.getInputMemberKey()))
          .ifPresent(
              repo -> {
                throw ApiException.conflict(
                    "repo '"
                        + derived
                        + "' exists and does not hold the outputs of pipeline '"
                        + spec.getInputPipeline()
                        + "' keyed by '"
                        + spec.getInputMemberKey()
                        + "'");
              });
      return;
    }
    if (control.repos.get(spec.getInputRepo()).isEmpty()) {
      throw ApiException.badRequest(
          "input.repo '" + spec.getInputRepo() + "' is not an existing repo");
    }
  }

  /**
   * Creates the repo of the upstream pipeline's outputs a pipeline input reads, unless it exists:
   * rows are the upstream {@code Output}s on {@code <pipeline>.output}, one table {@code output}
   * with columns (member, memberKey, data), row key member, members named by memberKey. Its updates
   * topic is the output topic, so it has that topic's partitions; its member side has the
   * deployment's member partition count like every other repo (the output topic's count when none
   * is configured).
   */
  private void ensureDerivedRepo(PipelineSpec spec) {
    String upstream = spec.getInputPipeline();
    if (upstream == null || control.repos.get(spec.getInputRepo()).isPresent()) {
      return;
    }
    String memberKey = spec.getInputMemberKey();
    String outputTopic = TopicNames.output(upstream);
    int partitions = outputPartitions(outputTopic);
    control.createRepoNow(
        RepoSpec.newBuilder()
            .setName(spec.getInputRepo())
            .setFormat(RowFormat.OUTPUT)
            .setDefaultTable(DERIVED_TABLE)
            .setTables(
                List.of(
                    TableSpec.newBuilder()
                        .setName(DERIVED_TABLE)
                        .setColumns(List.of("member", memberKey, "data"))
                        .setMemberKey(memberKey)
                        .setRowKey(List.of("member"))
                        .build()))
            .setUpdatePartitions(partitions)
            .setMemberPartitions(memberPartitions > 0 ? memberPartitions : partitions)
            .setCreatedAt(System.currentTimeMillis())
            .setUpdatesTopic(outputTopic)
            .setSourcePipeline(upstream)
            .build());
  }

  /**
   * Partitions of an upstream output topic; a topic created moments ago may not be described by
   * every broker yet, so a few attempts are made.
   */
  private int outputPartitions(String topic) {
    for (int attempt = 1; ; attempt++) {
      try {
        return control.topicAdmin.partitions(topic);
      } catch (KafkaException e) {
        if (attempt == DESCRIBE_ATTEMPTS) {
          throw e;
        }
        log.info("Topic {} not described yet (attempt {}): {}", topic, attempt, e.getMessage());
        try {
          TimeUnit.MILLISECONDS.sleep(DESCRIBE_BACKOFF_MS);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new KafkaException("interrupted describing " + topic, interrupted);
        }
      }
    }
  }

  private static boolean isDerived(RepoSpec repo, String upstream, String memberKey) {
    return upstream.equals(repo.getSourcePipeline())
        && repo.getTables().size() == 1
        && memberKey.equals(repo.getTables().get(0).getMemberKey());
  }

  /**
   * The spec hashes whose outputs an updated spec keeps: with {@code keepOutputsOnUpdate}, those
   * the previous version kept and the previous version's own (its outputs stay current, so a member
   * whose content did not change is not processed again); without it, none.
   */
  static List<String> keptSpecHashes(PipelineSpec previous, PipelineSpec update) {
    if (!update.getKeepOutputsOnUpdate()) {
      return List.of();
    }
    java.util.LinkedHashSet<String> kept =
        new java.util.LinkedHashSet<>(previous.getKeptSpecHashes());
    kept.add(previous.getSpecHash());
    kept.remove(update.getSpecHash());
    return List.copyOf(kept);
  }

  /** Parallelism is the partition count of the pipeline's topics, which cannot change safely. */
  private static void requireSameParallelism(PipelineSpec current, PipelineSpec update) {
    if (current.getParallelism() != update.getParallelism()) {
      throw ApiException.badRequest(
          "parallelism cannot change on update (it is the partition count of the pipeline's"
              + " topics): it is "
              + current.getParallelism()
              + ", got "
              + update.getParallelism());
    }
  }

  private void requireNoReaders(String name) {
    List<String> readers =
        control.pipelines.snapshot().values().stream()
            .filter(p -> name.equals(p.getInputPipeline()))
            .map(PipelineSpec::getName)
            .sorted()
            .toList();
    if (!readers.isEmpty()) {
      throw ApiException.conflict("pipelines " + readers + " read the outputs of '" + name + "'");
    }
  }
}
