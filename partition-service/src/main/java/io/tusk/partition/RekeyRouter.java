package io.tusk.partition;

import io.tusk.common.member.ParseResult;
import io.tusk.common.member.RejectReason;
import io.tusk.common.member.RowParser;
import io.tusk.common.member.SchemaUnavailableException;
import io.tusk.common.member.SourceRecord;
import io.tusk.common.topics.Headers;
import io.tusk.common.topics.Topic;
import io.tusk.common.topics.TopicNames;
import io.tusk.common.topics.Topics;
import io.tusk.schemas.Barrier;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Reject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowDelete;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What the rekeyer writes for one record of a repo's source topic (step 2 of the commit protocol),
 * without touching Kafka: a row goes to {@code <repo>.by-member} keyed by member; a delete by row
 * key (an upstream output tombstone) goes there as a {@link RowDelete}; a bad record goes to {@code
 * <repo>.rejected} (original key, value and headers plus the reason headers, same partition number)
 * with a reject notice to by-member partition {@code p % memberPartitions}; a CSV header line
 * produces nothing. Also makes the barriers of a source partition. Records are parsed by {@link
 * RowParser} in the repo's format or the record's {@code tusk.format}.
 *
 * <p>Keeps one {@link RowParser} per repo, so it is not thread-safe: one router per rekeyer thread.
 */
final class RekeyRouter {

  /**
   * Largest record the rekeyer writes: below the producer's and the broker's default 1 MiB limits,
   * so one huge row can never fail (and so stall) a transaction.
   */
  static final int MAX_RECORD_BYTES = 1_000_000;

  private final Topics topics;
  private final Map<String, RowParser> parsers = new HashMap<>();

  RekeyRouter(Topics topics) {
    this.topics = Objects.requireNonNull(topics, "topics");
  }

  /** What became of a record: the records to write, and the reject reason if it was rejected. */
  record Routing(List<ProducerRecord<byte[], byte[]>> records, Outcome outcome, String reason) {}

  /** The three fates of an input record. */
  enum Outcome {
    FORWARDED,
    REJECTED,
    SKIPPED
  }

  /**
   * Routes one record of a repo's source topic ({@code <repo>.updates}, or the pipeline output a
   * derived repo reads).
   *
   * @param repo the repo the record is routed for
   * @param spec the repo's spec, or null if it is unknown (the record is then rejected, without a
   *     notice, because the member side's partition count is unknown)
   * @throws SchemaUnavailableException if the schema registry cannot be reached (retry the record)
   */
  Routing route(ConsumerRecord<byte[], byte[]> record, String repo, RepoSpec spec) {
    if (record.headers().lastHeader(Headers.ROLL) != null) {
      // A roll marker on a compacted output topic (erasure): no row, and no delete.
      return new Routing(List.of(), Outcome.SKIPPED, null);
    }
    String tableHeader = Headers.text(record.headers(), Headers.TABLE);
    if (spec == null) {
      return new Routing(
          List.of(
              rejected(
                  record,
                  repo,
                  record.partition(),
                  RejectReason.UNKNOWN_REPO.name(),
                  "repo " + repo + " is unknown",
                  tableHeader)),
          Outcome.REJECTED,
          RejectReason.UNKNOWN_REPO.name());
    }
    String defaultTable = tableHeader == null ? spec.getDefaultTable() : tableHeader;
    SourceRecord source =
        new SourceRecord(
            record.key(),
            record.value(),
            tableHeader,
            Headers.text(record.headers(), Headers.FORMAT),
            record.partition(),
            record.offset());
    ParseResult result;
    try {
      result = parser(repo, spec).parse(source);
    } catch (SchemaUnavailableException e) {
      throw e;
    } catch (RuntimeException e) {
      // The message could quote the row (health data): only the exception type is kept.
      result =
          new ParseResult.Rejected(null, defaultTable, "parser failed: " + e.getClass().getName());
    }
    Topic<String, MemberEvent> byMember = topics.byMember(repo);
    if (result instanceof ParseResult.Accepted accepted) {
      byte[] key = byMember.key(accepted.member());
      byte[] value = byMember.value(MemberEvent.newBuilder().setEvent(accepted.row()).build());
      if (key.length + value.length <= MAX_RECORD_BYTES) {
        return new Routing(
            List.of(new ProducerRecord<>(byMember.name(), key, value)), Outcome.FORWARDED, null);
      }
      result =
          new ParseResult.Rejected(
              RejectReason.ROW_TOO_LARGE,
              accepted.row().getTable(),
              "re-keyed row of "
                  + (key.length + value.length)
                  + " bytes, limit "
                  + MAX_RECORD_BYTES);
    }
    if (result instanceof ParseResult.Deleted deleted) {
      // No member is named: the member side claims the key as deleted and the row-owner stage
      // releases it from whoever holds it. Any by-member partition will do; like a reject notice
      // it goes to the source partition's.
      RowDelete delete =
          RowDelete.newBuilder()
              .setTable(deleted.table())
              .setRowKey(deleted.rowKey())
              .setSourcePartition(record.partition())
              .setSourceOffset(record.offset())
              .setErasure(Headers.text(record.headers(), Headers.ERASURE))
              .build();
      return new Routing(
          List.of(
              new ProducerRecord<>(
                  byMember.name(),
                  record.partition() % spec.getMemberPartitions(),
                  null,
                  byMember.value(MemberEvent.newBuilder().setEvent(delete).build()))),
          Outcome.FORWARDED,
          null);
    }
    if (result instanceof ParseResult.Rejected rejected) {
      String reason =
          rejected.reason() == null ? RejectReason.UNPARSEABLE.name() : rejected.reason().name();
      String table = rejected.table() == null ? defaultTable : rejected.table();
      Reject reject =
          Reject.newBuilder()
              .setSourcePartition(record.partition())
              .setSourceOffset(record.offset())
              .setReason(reason)
              .build();
      MemberEvent notice = MemberEvent.newBuilder().setEvent(reject).build();
      return new Routing(
          List.of(
              // <repo>.rejected has the repo's updatePartitions: the same partition number as the
              // source whenever the source topic has that many partitions, as it should.
              rejected(
                  record,
                  repo,
                  record.partition() % spec.getUpdatePartitions(),
                  reason,
                  rejected.detail(),
                  table),
              new ProducerRecord<>(
                  byMember.name(),
                  record.partition() % spec.getMemberPartitions(),
                  null,
                  byMember.value(notice))),
          Outcome.REJECTED,
          reason);
    }
    return new Routing(List.of(), Outcome.SKIPPED, null);
  }

  /**
   * A barrier "source partition p has forwarded everything below position" for every member
   * partition.
   */
  List<ProducerRecord<byte[], byte[]>> barriers(RepoSpec spec, int partition, long position) {
    Topic<String, MemberEvent> byMember = topics.byMember(spec.getName());
    Barrier event =
        Barrier.newBuilder().setSourcePartition(partition).setPosition(position).build();
    byte[] barrier = byMember.value(MemberEvent.newBuilder().setEvent(event).build());
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(spec.getMemberPartitions());
    for (int p = 0; p < spec.getMemberPartitions(); p++) {
      records.add(new ProducerRecord<>(byMember.name(), p, null, barrier));
    }
    return records;
  }

  private RowParser parser(String repo, RepoSpec spec) {
    RowParser parser = parsers.get(repo);
    // The view replaces the spec object when the repo's spec changes: identity is enough.
    if (parser == null || parser.layout().spec() != spec) {
      parser = new RowParser(spec, topics.registry());
      parsers.put(repo, parser);
    }
    return parser;
  }

  private static ProducerRecord<byte[], byte[]> rejected(
      ConsumerRecord<byte[], byte[]> record,
      String repo,
      int partition,
      String reason,
      String detail,
      String table) {
    byte[] value = record.value();
    String fullDetail = detail == null ? "" : detail;
    int size =
        (record.key() == null ? 0 : record.key().length) + (value == null ? 0 : value.length);
    if (size > MAX_RECORD_BYTES) {
      // The copy would fail the transaction: keep key and headers, and say why the value is gone.
      value = null;
      fullDetail += " (value omitted: " + size + " bytes is too large to copy)";
    }
    RecordHeaders headers = new RecordHeaders();
    for (Header header : record.headers()) {
      if (!header.key().equals(Headers.TABLE)) {
        headers.add(header);
      }
    }
    headers.add(Headers.REJECT_REASON, Headers.bytes(reason));
    headers.add(Headers.REJECT_DETAIL, Headers.bytes(fullDetail));
    headers.add(Headers.SOURCE_TOPIC, Headers.bytes(record.topic()));
    headers.add(Headers.SOURCE_PARTITION, Headers.bytes(Integer.toString(record.partition())));
    headers.add(Headers.SOURCE_OFFSET, Headers.bytes(Long.toString(record.offset())));
    if (table != null) {
      headers.add(Headers.TABLE, Headers.bytes(table));
    }
    return new ProducerRecord<>(
        TopicNames.rejected(repo), partition, null, record.key(), value, headers);
  }
}
