package io.tusk.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which earlier specs' outputs an updated pipeline keeps (keepOutputsOnUpdate). */
class KeptSpecHashesTest {
  private static PipelineSpec spec(String hash, boolean keep, List<String> kept) {
    return PipelineSpec.newBuilder()
        .setName("p")
        .setInputRepo("r")
        .setTransform(TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("t").build())
        .setParallelism(1)
        .setSpecHash(hash)
        .setCreatedAt(0)
        .setKeepOutputsOnUpdate(keep)
        .setKeptSpecHashes(kept)
        .build();
  }

  @Test
  void shouldKeepEveryEarlierSpecUntilAnUpdateDoesNotKeepOutputs() {
    // Given spec 1, updated to 2 then 3 keeping outputs
    PipelineSpec v1 = spec("h1", false, List.of());
    PipelineSpec v2 =
        spec("h2", true, PipelineControl.keptSpecHashes(v1, spec("h2", true, List.of())));
    PipelineSpec v3 =
        spec("h3", true, PipelineControl.keptSpecHashes(v2, spec("h3", true, List.of())));

    // Then version 3 keeps the outputs of 1 and 2
    assertThat(v2.getKeptSpecHashes()).containsExactly("h1");
    assertThat(v3.getKeptSpecHashes()).containsExactly("h1", "h2");

    // And going back to spec 1 keeping outputs does not list its own hash
    assertThat(PipelineControl.keptSpecHashes(v3, spec("h1", true, List.of())))
        .containsExactly("h2", "h3");

    // And an update that does not keep outputs keeps none
    assertThat(PipelineControl.keptSpecHashes(v3, spec("h4", false, List.of()))).isEmpty();
  }
}
