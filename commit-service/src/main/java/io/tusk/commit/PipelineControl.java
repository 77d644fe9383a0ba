package io.tusk.commit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.tusk.common.http.ApiException;
import io.tusk.schemas.PipelineSpec;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pipelines: creation, with the topics they need. Changes run in the queue of the pipeline's input
 * repo (see {@link ControlPlane}), so the jobs they start are ordered with that repo's seals and
 * branch moves.
 */
final class PipelineControl {
  private static final Logger log = LoggerFactory.getLogger(PipelineControl.class);

  private final ControlPlane control;
  private final Counter pipelineCounter;

  PipelineControl(ControlPlane control, MeterRegistry metrics) {
    this.control = control;
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

  /** Creates a pipeline and its topics. */
  Future<PipelineSpec> create(PipelineSpec spec) {
    String name = spec.getName();
    String input = spec.getInputRepo();
    if (control.repos.get(input).isEmpty()) {
      throw ApiException.badRequest("input.repo '" + input + "' is not an existing repo");
    }
    control.requireFreeName(name);
    return control.tasks.submit(
        ControlPlane.repoQueue(input),
        () -> {
          control.reserveName(name);
          try {
            // The spec goes first, as for repos; the processor checks the transform.
            control.write(control.topics.pipelines, name, spec);
            control.topicAdmin.createPipelineTopics(spec);
            control.pipelines.put(name, spec);
          } finally {
            control.releaseName(name);
          }
          pipelineCounter.increment();
          log.info(
              "Created pipeline {} on repo {} branch {} (transform {} {}, parallelism {})",
              name,
              input,
              spec.getInputBranch(),
              spec.getTransform().getKind(),
              spec.getTransform().getName(),
              spec.getParallelism());
          return spec;
        });
  }
}
