package io.tusk.partition;

import org.apache.kafka.common.serialization.Serde;

/**
 * A commit completed in one member partition: its sequence and the members present in the partition
 * as of it (for the totals of jobs over it, and for as-of queries by commit ID).
 *
 * @param sequence the commit's sequence
 * @param members members present as of the commit in this partition
 */
record CommitMark(long sequence, long members) {
  static final Serde<CommitMark> SERDE =
      Binary.serde(
          "commit mark",
          (byte) 1,
          (m, w) -> w.putLong(m.sequence()).putLong(m.members()),
          r -> new CommitMark(r.getLong(), r.getLong()));
}
