package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.schemas.Output;
import java.util.List;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedForward;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OutputKeyerTest {
  private final MockProcessorContext<String, Output> context = new MockProcessorContext<>();
  private final OutputKeyer keyer = new OutputKeyer();

  @BeforeEach
  void setUp() {
    keyer.init(context);
    context.setRecordMetadata("risk.output", 2, 17L);
  }

  @Test
  void shouldKeyByPipelineAndMemberOfTheValueWhenOutputArrives() {
    // Given an output of pipeline risk for member 1001
    Output output =
        Fixtures.output("risk", "1001", Ids.newId(), Ids.newId(), "text/plain", "high", List.of());

    // When it is processed
    keyer.process(new Record<>("1001", output, 5L));

    // Then it is forwarded under risk/1001, unchanged
    List<CapturedForward<? extends String, ? extends Output>> forwarded = context.forwarded();
    assertThat(forwarded).hasSize(1);
    assertThat(forwarded.get(0).record().key()).isEqualTo("risk/1001");
    assertThat(forwarded.get(0).record().value()).isEqualTo(output);
  }

  @Test
  void shouldKeyTombstoneByItsTopicWhenValueIsNull() {
    // Given a tombstone for member 1001 on risk.output

    // When it is processed
    keyer.process(new Record<>("1001", null, 5L));

    // Then a tombstone for risk/1001 is forwarded
    assertThat(context.forwarded()).hasSize(1);
    assertThat(context.forwarded().get(0).record().key()).isEqualTo("risk/1001");
    assertThat(context.forwarded().get(0).record().value()).isNull();
  }

  @Test
  void shouldForwardNothingWhenTombstoneHasNoKey() {
    // Given a record with neither key nor value

    // When it is processed
    keyer.process(new Record<>(null, null, 5L));

    // Then nothing is forwarded (it is logged with its position)
    assertThat(context.forwarded()).isEmpty();
  }
}
