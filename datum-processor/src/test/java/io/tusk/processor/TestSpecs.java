package io.tusk.processor;

import io.tusk.common.member.Hashing;
import io.tusk.processor.transform.DatumExecution;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.time.Duration;
import java.util.Optional;

/** Pipeline specs and transform selectors for unit tests, without a broker. */
final class TestSpecs {
  private TestSpecs() {}

  /** A Java pipeline on {@code repo} whose spec hash is the one a plain Java pipeline gets. */
  static PipelineSpec javaSpec(String pipeline, String repo, String transform) {
    return PipelineSpec.newBuilder()
        .setName(pipeline)
        .setInputRepo(repo)
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName(transform).build())
        .setParallelism(1)
        .setSpecHash(Hashing.specHash(repo, "JAVA", transform))
        .setCreatedAt(0)
        .build();
  }

  /**
   * A selector holding {@code execution} as the transform of {@code spec}, which is also the
   * pipeline's current spec; datums of other hashes fail at once (no wait).
   */
  static TransformSelector holding(PipelineSpec spec, DatumExecution execution) {
    PipelineSpecWatch watch = new PipelineSpecWatch(() -> Optional.of(spec));
    watch.refresh();
    return new TransformSelector(
        spec.getName(),
        watch,
        new TransformSelector.ExecutionFactory() {
          @Override
          public void check(PipelineSpec checked) {}

          @Override
          public DatumExecution create(PipelineSpec created) {
            return execution;
          }
        },
        spec,
        Duration.ZERO);
  }
}
