package io.tusk.partition;

import io.tusk.common.topics.Headers;
import io.tusk.common.topics.TopicNames;
import io.tusk.schemas.Claim;
import io.tusk.schemas.Claims;
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
import org.apache.kafka.streams.KeyValue;
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
 * of a row key; a batch of claims, {@link Claims}, holds only keys of its partition) and keeps
 * which member holds each row key. In every commit, each member whose rows touch a key claims it
 * with the position of its latest row of the key (a delete claims it as deleted; a delete by row
 * key claims it for no member). The latest claim wins: later offset in the same source partition,
 * else the higher source partition (Kafka orders rows only within a partition). Every other member
 * that holds the key gets a {@link Release}: the owner from an earlier commit, and the claimants of
 * the same commit that lost. The outcome does not depend on the order claims arrive in. Once the
 * claims-done markers of every member partition for commit N are in, a {@link ReleasesDone} goes to
 * every by-member partition: each of them then knows it has every release of N from this partition
 * (a release precedes the marker, both written by this task in order).
 *
 * <p>Erasure (issue 10): a delete claim with an erasure request marks its contest, and every
 * holder's release carries the request (the holder purges the row from its history); a claim from
 * {@link Erasures#FORGET} drops the owner entries of an erased member, so none keeps its key.
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
      // A deleted key has no holder: its owner names no member, so no entry keeps the key of a
      // member that deleted its row (an erased one included).
      return new Owner(
          claim.getDelete() ? "" : claim.getMember(),
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

  /**
   * A contested key of one commit: its row key, every member that held it then, and the erasure
   * request if an erasure's delete claimed it (every holder then purges the row from its history).
   */
  record Contest(String table, List<String> rowKey, List<String> holders, String erasure) {
    static final Serde<Contest> SERDE =
        Binary.serde(
            "contest",
            (byte) 2,
            (c, w) -> {
              w.putString(c.table()).putInt(c.rowKey().size());
              c.rowKey().forEach(w::putString);
              w.putInt(c.holders().size());
              c.holders().forEach(w::putString);
              w.putString(c.erasure());
            },
            r -> read(r, true),
            (byte) 1,
            r -> read(r, false));

    private static Contest read(Binary.Reader r, boolean withErasure) {
      String table = r.getString();
      int keys = r.getInt();
      List<String> rowKey = new ArrayList<>(keys);
      for (int i = 0; i < keys; i++) {
        rowKey.add(r.getString());
      }
      int n = r.getInt();
      List<String> holders = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        holders.add(r.getString());
      }
      return new Contest(table, rowKey, holders, withErasure ? r.getString() : null);
    }

    Contest(String table, List<String> rowKey, List<String> holders) {
      this(table, rowKey, holders, null);
    }

    /** The contest with one more holder (once). */
    Contest with(String holder) {
      if (holders.contains(holder)) {
        return this;
      }
      List<String> more = new ArrayList<>(holders);
      more.add(holder);
      return new Contest(table, rowKey, more, erasure);
    }

    /** The contest with the erasure of {@code claim}, if it has one. */
    Contest erasedBy(Claim claim) {
      return claim.getErasure() == null
          ? this
          : new Contest(table, rowKey, holders, claim.getErasure());
    }
  }

  private ProcessorContext<String, Object> context;
  private KeyValueStore<Bytes, Owner> owners;
  private KeyValueStore<Bytes, Long> markers;
  private KeyValueStore<Bytes, Contest> contests;

  @Override
  public void init(ProcessorContext<String, Object> context) {
    this.context = context;
    owners = context.getStateStore(PartitionStores.ROW_OWNERS);
    markers = context.getStateStore(PartitionStores.CLAIM_MARKERS);
    contests = context.getStateStore(PartitionStores.CONTESTED_KEYS);
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
    if (event instanceof Claims claims) {
      claims.getClaims().forEach(claim -> onClaim(repo, claim));
    } else if (event instanceof Claim claim) {
      onClaim(repo, claim);
    } else if (event instanceof ClaimsDone done) {
      onClaimsDone(repo, done);
    } else if (event instanceof io.tusk.schemas.RowOwnersPurge) {
      // The repo is being deleted: no claim of it may survive into a repo created again.
      Bytes prefix = StoreKeys.repo(repo);
      int deleted =
          StoreKeys.purge(owners, prefix)
              + StoreKeys.purge(markers, prefix)
              + StoreKeys.purge(contests, prefix);
      log.info("Purged repo {} from row-owner task: {} keys", repo, deleted);
    } else {
      log.warn("Unknown row-owner event {} in {} ignored", event.getClass().getSimpleName(), topic);
    }
  }

  private void onClaim(String repo, Claim claim) {
    Bytes key = StoreKeys.owner(repo, claim.getTable(), claim.getRowKey());
    Owner owner = owners.get(key);
    if (claim.getSourcePartition() == Erasures.FORGET) {
      forget(key, owner, claim);
      return;
    }
    Owner claimant = Owner.of(claim);
    if (owner != null && owner.sequence() > claim.getSequence()) {
      log.error(
          "Claim of commit {} after one of commit {} in repo {}; ignored",
          claim.getSequence(),
          owner.sequence(),
          repo);
      return;
    }
    Bytes contestKey =
        StoreKeys.contest(repo, claim.getSequence(), claim.getTable(), claim.getRowKey());
    if (owner == null || owner.sequence() < claim.getSequence()) {
      if (!claimant.holds() && claim.getErasure() != null && (owner == null || !owner.holds())) {
        // An erasure deleted a key nobody holds: no entry may keep it (in a derived repo the row
        // key is the erased member's key).
        StoreKeys.drop(owners, key);
        return;
      }
      // The commit's first claim of the key: the owner from before holds it too, unless it is the
      // claimant itself (its own rows, deletes included, are applied in order).
      owners.put(key, claimant);
      if (owner != null && owner.holds() && !owner.member().equals(claim.getMember())) {
        Contest contest =
            new Contest(claim.getTable(), claim.getRowKey(), List.of(owner.member()))
                .erasedBy(claim);
        contests.put(contestKey, claimant.holds() ? contest.with(claim.getMember()) : contest);
      }
      return;
    }
    // Another claim of the same commit: the latest in source order wins.
    Contest contest = contests.get(contestKey);
    if (contest == null) {
      contest =
          new Contest(
              claim.getTable(),
              claim.getRowKey(),
              owner.holds() ? List.of(owner.member()) : List.of());
    }
    contest = contest.erasedBy(claim);
    contests.put(contestKey, claimant.holds() ? contest.with(claim.getMember()) : contest);
    if (owner.precedes(claim)) {
      owners.put(key, claimant);
    }
  }

  /**
   * An erased member's key, sent after its erasure commit N settled: the owner entry goes if the
   * member still holds the key as of N (if another member claimed it since, that claim stands).
   */
  private void forget(Bytes key, Owner owner, Claim claim) {
    if (owner != null
        && owner.member().equals(claim.getMember())
        && owner.sequence() <= claim.getSequence()) {
      StoreKeys.drop(owners, key);
    }
  }

  /** Every holder of the commit's contested keys but their winner loses the row. */
  private void releaseContested(String repo, long sequence) {
    Bytes prefix = StoreKeys.changedSet(repo, sequence);
    List<KeyValue<Bytes, Contest>> contested = new ArrayList<>();
    try (KeyValueIterator<Bytes, Contest> all =
        contests.range(prefix, StoreKeys.upperBound(prefix))) {
      all.forEachRemaining(contested::add);
    }
    for (KeyValue<Bytes, Contest> entry : contested) {
      Contest contest = entry.value;
      Bytes ownerKey = StoreKeys.owner(repo, contest.table(), contest.rowKey());
      Owner winner = owners.get(ownerKey);
      String kept = winner != null && winner.holds() ? winner.member() : "";
      for (String holder : contest.holders()) {
        if (!holder.equals(kept)) {
          release(repo, contest, sequence, holder, kept);
        }
      }
      if (contest.erasure() != null && kept.isEmpty() && winner != null) {
        // An erasure's delete won: the deleted key's entry goes too, or it would keep the key (in a
        // derived repo, the erased member's key) for as long as nobody claims it again.
        StoreKeys.drop(owners, ownerKey);
      }
      StoreKeys.drop(contests, entry.key);
    }
  }

  private void release(String repo, Contest contest, long sequence, String loser, String winner) {
    Release release =
        Release.newBuilder()
            .setTable(contest.table())
            .setRowKey(contest.rowKey())
            .setMember(loser)
            .setSequence(sequence)
            .setClaimedBy(winner)
            .setErasure(contest.erasure())
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
    seen.forEach(key -> StoreKeys.drop(markers, key));
    releaseContested(repo, done.getSequence());
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
