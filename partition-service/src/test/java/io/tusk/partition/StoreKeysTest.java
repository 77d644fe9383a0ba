package io.tusk.partition;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

class StoreKeysTest {

  @Test
  void shouldKeepAMembersRowsContiguousAndInSourceOrderWhenSorted() {
    // Given row keys of two members in scrambled order, with offsets whose bytes differ in sign
    List<Bytes> keys =
        new ArrayList<>(
            List.of(
                StoreKeys.row("r", "B", 0, 1),
                StoreKeys.row("r", "A", 1, 0),
                StoreKeys.row("r", "A", 0, 300),
                StoreKeys.row("r", "B", 0, 0),
                StoreKeys.row("r", "A", 0, 2)));

    // When they are sorted as a store sorts them
    Collections.sort(keys);

    // Then each member's rows are contiguous, in (partition, offset) order
    assertThat(keys.stream().map(StoreKeys::decodeRow).toList())
        .containsExactly(
            new StoreKeys.RowKey("A", 0, 2),
            new StoreKeys.RowKey("A", 0, 300),
            new StoreKeys.RowKey("A", 1, 0),
            new StoreKeys.RowKey("B", 0, 0),
            new StoreKeys.RowKey("B", 0, 1));
  }

  @Test
  void shouldKeepACommitsPartsInItsRangeWhenAnotherIdExtendsIt() {
    // Given parts of commits "c1" and "c10"
    Bytes prefix = StoreKeys.commit("c1");
    Bytes upper = StoreKeys.upperBound(prefix);

    // Then only c1's parts are inside c1's range
    assertThat(StoreKeys.part("c1", 5).compareTo(upper)).isNegative();
    assertThat(StoreKeys.part("c1", 0).compareTo(prefix)).isPositive();
    Bytes other = StoreKeys.part("c10", 0);
    assertThat(other.compareTo(prefix) < 0 || other.compareTo(upper) > 0).isTrue();
  }

  @Test
  void shouldKeepOneReposKeysOutOfAnotherReposRangeWhenItsNameIsAPrefix() {
    // Given repos "a" and "ab"
    Bytes prefix = StoreKeys.repo("a");
    Bytes upper = StoreKeys.upperBound(prefix);

    // When keys of both are compared with repo a's range
    Bytes ofA = StoreKeys.row("a", "zzzz", Integer.MAX_VALUE, Long.MAX_VALUE);
    Bytes ofAb = StoreKeys.row("ab", "", 0, 0);

    // Then only a's key is inside it
    assertThat(ofA.compareTo(prefix)).isPositive();
    assertThat(ofA.compareTo(upper)).isNegative();
    assertThat(ofAb.compareTo(prefix) < 0 || ofAb.compareTo(upper) > 0).isTrue();
  }

  @Test
  void shouldReturnTheFieldsWhenARejectKeyIsDecoded() {
    // Given a reject key
    Bytes reject = StoreKeys.position("r", 2, 99);

    // Then decoding gives its fields back
    assertThat(StoreKeys.decodePosition(reject)).isEqualTo(new StoreKeys.PositionKey(2, 99));
  }

  @Test
  void shouldKeepAMembersVersionsInSequenceOrderWhenAnotherMemberExtendsItsName() {
    // Given versions of members "A" and "AB"
    List<Bytes> keys =
        new ArrayList<>(
            List.of(
                StoreKeys.version("r", "AB", 1),
                StoreKeys.version("r", "A", 300),
                StoreKeys.version("r", "A", 2)));

    // When they are sorted
    Collections.sort(keys);

    // Then A's versions come first, in sequence order, and within A's prefix range only
    Bytes prefix = StoreKeys.member("r", "A");
    assertThat(keys.subList(0, 2))
        .allSatisfy(k -> assertThat(k.compareTo(StoreKeys.upperBound(prefix))).isNegative());
    assertThat(keys.get(0)).isEqualTo(StoreKeys.version("r", "A", 2));
    assertThat(keys.get(2).compareTo(StoreKeys.upperBound(prefix))).isPositive();
  }

  @Test
  void shouldKeepRowKeysDistinctWhenValuesContainTheSeparatorOrAreNull() {
    // Given row keys that a naive join would confuse
    List<String> nulls = new ArrayList<>();
    nulls.add(null);
    nulls.add("x");

    // Then their texts differ
    assertThat(StoreKeys.rowKeyText(List.of("a/b", "c")))
        .isNotEqualTo(StoreKeys.rowKeyText(List.of("a", "b/c")));
    assertThat(StoreKeys.rowKeyText(nulls))
        .isNotEqualTo(StoreKeys.rowKeyText(List.of("null", "x")));
    assertThat(StoreKeys.owner("r", "t", List.of("1", "2")))
        .isNotEqualTo(StoreKeys.owner("r", "t", List.of("12")));
  }

  @Test
  void shouldDropAKeyAndLogItsTombstoneWithoutReadingItsValue() {
    // Given a persistent, logged store whose value deserializer counts its calls, and a processor
    // that stores a record's value, or drops its key when the value is null
    AtomicInteger reads = new AtomicInteger();
    Serde<String> counted =
        Serdes.serdeFrom(
            new StringSerializer(),
            (topic, data) -> {
              reads.incrementAndGet();
              return data == null ? null : new String(data, StandardCharsets.UTF_8);
            });
    Topology topology = new Topology();
    topology.addSource("in", new StringDeserializer(), new StringDeserializer(), "in");
    topology.addProcessor(
        "p",
        () ->
            new Processor<String, String, Void, Void>() {
              private KeyValueStore<Bytes, String> store;

              @Override
              public void init(ProcessorContext<Void, Void> context) {
                store = context.getStateStore("s");
              }

              @Override
              public void process(Record<String, String> record) {
                Bytes key = Bytes.wrap(record.key().getBytes(StandardCharsets.UTF_8));
                if (record.value() == null) {
                  StoreKeys.drop(store, key);
                } else {
                  store.put(key, record.value());
                }
              }
            },
        "in");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore("s"), Serdes.Bytes(), counted),
        "p");
    Properties config = new Properties();
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, "drop-test");
    config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    try (TopologyTestDriver driver = new TopologyTestDriver(topology, config)) {
      TestInputTopic<String, String> in =
          driver.createInputTopic("in", Serdes.String().serializer(), Serdes.String().serializer());

      // When a key is stored and then dropped
      in.pipeInput("k", "v");
      in.pipeInput("k", (String) null);

      // Then it is gone, its value was never read, and the changelog got its tombstone
      assertThat(reads).hasValue(0);
      KeyValueStore<Bytes, String> store = driver.getKeyValueStore("s");
      assertThat(store.get(Bytes.wrap("k".getBytes(StandardCharsets.UTF_8)))).isNull();
      assertThat(
              driver
                  .createOutputTopic(
                      "drop-test-s-changelog",
                      Serdes.String().deserializer(),
                      Serdes.String().deserializer())
                  .readKeyValuesToList())
          .containsExactly(KeyValue.pair("k", "v"), KeyValue.pair("k", null));
    }
  }
}
