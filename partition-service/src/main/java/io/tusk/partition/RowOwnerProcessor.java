package io.tusk.partition;

import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Claim;
import io.tusk.schemas.ClaimsDone;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.Release;
import io.tusk.schemas.ReleasesDone;
import io.tusk.schemas.RowOwnerEvent;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The row-owner stage of row moves and deletes by row key (docs/versioning-and-processing.md):
 * reads {@code <repo>.row-owners} (keyed by {@code <table>/<rowKey>}, so one task sees every claim
 * of a row key) and keeps which member holds each row key. In every commit, each member whose rows
 * touch a key claims it with the position of its latest row of the key (a delete claims it as
 * deleted; a delete by row key claims it for no member). The latest claim wins: later offset in the
 * same source partition, else the higher source partition (Kafka orders rows only within a
 * partition). Every other member that holds the key gets a {@link Release}: the owner from an
 * earlier commit, and the claimants of the same commit that lost. The outcome does not depend on
 * the order claims arrive in. Once the claims-done markers of every member partition for commit N
 * are in, a {@link ReleasesDone} goes to every by-member partition: each of them then knows it has
 * every release of N from this partition (a release precedes the marker, both written by this task
 * in order).
 */
final class RowOwnerProcessor implements Processor<String, RowOwnerEvent, String, Object> {
  private static final Logger log = LoggerFactory.getLogger(RowOwnerProcessor.class);

  /**
   * The latest claim of a row key: who holds it (none when {@code deleted}), in which commit, and
   * the source position of the row that decided it.
   */
  record Owner(String member, long sequence, int partition, long offset, boolean deleted) {
    static final Serde<Owner> SERDE =
        Binary.serde(
            "row owner",
            (byte) 2,
            (o, w) ->
                w.putString(o.member())
                    .putLong(o.sequence())
                    .putInt(o.partition())
                    .putLong(o.offset())
                    .putInt(o.deleted() ? 1 : 0),
            r -> new Owner(r.getString(), r.getLong(), r.getInt(), r.getLong(), r.getInt() == 1));

    static Owner of(Claim claim) {
      return new Owner(
          claim.getMember(),
          claim.getSequence(),
          claim.getSourcePartition(),
          claim.getSourceOffset(),
          claim.getDelete());
    }

    /** Whether a claim of the same commit comes after this one in source order. */
    boolean precedes(Claim claim) {
      if (claim.getSourcePartition() != partition) {
        return claim.getSourcePartition() > partition;
      }
      return claim.getSourceOffset() > offset;
    }

    /** Whether a member holds the row (its latest claim was not a delete). */
    boolean holds() {
      return !deleted && !member.isEmpty();
    }
  }

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, Owner> owners;
  private KeyValueStore<Bytes, Long> markers;

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    owners = context.getStateStore(PartitionStores.ROW_OWNERS);
    markers = context.getStateStore(PartitionStores.CLAIM_MARKERS);
  }

  @Override
  public void process(Record<String, RowOwnerEvent> record) {
    String topic = context.recordMetadata().map(RecordMetadata::topic).orElse(null);
    if (topic == null || !topic.endsWith(TopicNames.ROW_OWNERS_SUFFIX)) {
      log.error("Row-owner event from unexpected topic {} ignored", topic);
      return;
    }
    String repo = TopicNames.owner(topic, TopicNames.ROW_OWNERS_SUFFIX);
    if (record.value() == null || record.value().getEvent() == null) {
      log.warn("Empty row-owner event in {} ignored", topic);
      return;
    }
    Object event = record.value().getEvent();
    if (event instanceof Claim claim) {
      onClaim(repo, claim);
    } else if (event instanceof ClaimsDone done) {
      onClaimsDone(repo, done);
    } else {
      log.warn("Unknown row-owner event {} in {} ignored", event.getClass().getSimpleName(), topic);
    }
  }

  private void onClaim(String repo, Claim claim) {
    Bytes key = StoreKeys.owner(repo, claim.getTable(), claim.getRowKey());
    Owner owner = owners.get(key);
    if (owner == null) {
      owners.put(key, Owner.of(claim));
      return;
    }
    boolean claimantWins = owner.sequence() != claim.getSequence() || owner.precedes(claim);
    Owner winner = claimantWins ? Owner.of(claim) : owner;
    Owner loser = claimantWins ? owner : Owner.of(claim);
    if (claimantWins) {
      owners.put(key, winner);
    }
    // The loser keeps the row unless it is the winner itself (its own rows are applied in order)
    // or holds none (a delete).
    if (loser.holds() && !(winner.holds() && winner.member().equals(loser.member()))) {
      release(repo, claim, loser.member(), winner.holds() ? winner.member() : "");
    }
  }

  private void release(String repo, Claim claim, String loser, String winner) {
    Release release =
        Release.newBuilder()
            .setTable(claim.getTable())
            .setRowKey(claim.getRowKey())
            .setMember(loser)
            .setSequence(claim.getSequence())
            .setClaimedBy(winner)
            .build();
    // Keyed by the losing member: the default partitioner finds its by-member partition.
    context.forward(
        new Record<String, Object>(
            loser, new MemberEvent(release), context.currentSystemTimeMs(), repoHeader(repo)),
        PartitionSinks.RELEASES);
  }

  private void onClaimsDone(String repo, ClaimsDone done) {
    markers.put(StoreKeys.marker(repo, done.getSequence(), done.getMemberPartition()), 1L);
    Bytes prefix = StoreKeys.changedSet(repo, done.getSequence());
    List<Bytes> seen = new ArrayList<>();
    try (KeyValueIterator<Bytes, Long> all = markers.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(kv -> seen.add(kv.key));
    }
    if (seen.size() < done.getMemberPartitions()) {
      return;
    }
    seen.forEach(markers::delete);
    ReleasesDone released =
        ReleasesDone.newBuilder()
            .setSequence(done.getSequence())
            .setRowOwnerPartition(context.taskId().partition())
            .setRowOwnerPartitions(done.getMemberPartitions())
            .build();
    context.forward(
        new Record<String, Object>(
            null, new MemberEvent(released), context.currentSystemTimeMs(), repoHeader(repo)),
        PartitionSinks.RELEASE_MARKERS);
  }

  private static RecordHeaders repoHeader(String repo) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(Headers.REPO, Headers.bytes(repo));
    return headers;
  }
}
