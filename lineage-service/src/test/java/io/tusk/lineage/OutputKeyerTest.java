package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.Ids;
import io.tusk.common.topics.Headers;
import io.tusk.schemas.Output;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedForward;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OutputKeyerTest {
  private final MockProcessorContext<String, OutputEvent> context = new MockProcessorContext<>();
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
    List<CapturedForward<? extends String, ? extends OutputEvent>> forwarded = context.forwarded();
    assertThat(forwarded).hasSize(1);
    assertThat(forwarded.get(0).record().key()).isEqualTo("risk/1001");
    OutputEvent event = forwarded.get(0).record().value();
    assertThat(event.output()).isEqualTo(output);
    assertThat(event.removed()).isFalse();
    assertThat(event.position()).isEqualTo("risk.output/2/17");
    assertThat(event.timestamp()).isEqualTo(5L);
  }

  @Test
  void shouldKeyTombstoneByItsTopicWhenValueIsNull() {
    // Given a tombstone for member 1001 on risk.output

    String jobId = Ids.newId();
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.JOB_ID, Headers.bytes(jobId));
    headers.add(Headers.DATUM_HASH, Headers.bytes("d1"));

    // When it is processed
    keyer.process(new Record<>("1001", null, 5L, headers));

    // Then a removal of risk/1001 by that job is forwarded, at the tombstone's position
    assertThat(context.forwarded()).hasSize(1);
    assertThat(context.forwarded().get(0).record().key()).isEqualTo("risk/1001");
    OutputEvent removal = context.forwarded().get(0).record().value();
    assertThat(removal.removed()).isTrue();
    assertThat(removal.output()).isNull();
    assertThat(removal.jobId()).isEqualTo(jobId);
    assertThat(removal.datumHash()).isEqualTo("d1");
    assertThat(removal.commitId()).isEmpty();
    assertThat(removal.position()).isEqualTo("risk.output/2/17");
  }

  @Test
  void shouldForwardNothingWhenTombstoneHasNoKey() {
    // Given a record with neither key nor value

    // When it is processed
    keyer.process(new Record<>(null, null, 5L));

    // Then nothing is forwarded (it is logged with its position)
    assertThat(context.forwarded()).isEmpty();
  }

  @Test
  void shouldCarryTheErasureWhenTheTombstoneNamesOneAndSkipRollMarkers() {
    // Given the tombstone of an erased member and a roll marker
    RecordHeaders erasure = new RecordHeaders();
    erasure.add(Headers.ERASURE, Headers.bytes("erasure-1"));
    RecordHeaders roll = new RecordHeaders();
    roll.add(Headers.ROLL, Headers.bytes("x"));

    // When both are processed
    keyer.process(new Record<>("1001", null, 5L, erasure));
    keyer.process(new Record<>("tusk-roll", null, 6L, roll));

    // Then only the erasure is forwarded, naming its request; it survives the index serde
    assertThat(context.forwarded()).hasSize(1);
    OutputEvent event = context.forwarded().get(0).record().value();
    assertThat(event.erases()).isTrue();
    assertThat(event.erasure()).isEqualTo("erasure-1");
    var serde =
        OutputEvent.serde(
            new io.tusk.common.topics.Topics(
                    new io.tusk.schemas.registry.InMemorySchemaRegistryClient())
                .outputSerde());
    OutputEvent read =
        serde.deserializer().deserialize("t", serde.serializer().serialize("t", event));
    assertThat(read).isEqualTo(event);
  }
}
