package io.tusk.partition;

import java.nio.ByteBuffer;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;

/**
 * The member topology's progress on one repo in one member partition: the last completed commit,
 * how many members the partition holds, and the state of the commit being applied (its phase, the
 * scan cursor and the counts so far), so a commit can be applied in slices across transactions.
 *
 * @param lastCompleted sequence of the last completed commit (0: none)
 * @param members members of the repo in this partition
 * @param phase where the next commit's application stands
 * @param cursor store key at which the current phase's scan resumes (null: at its start)
 * @param rows rows of the commit applied so far
 * @param changed members changed by the commit so far
 * @param rejected reject notices of the commit counted so far
 */
record Progress(
    long lastCompleted,
    long members,
    Phase phase,
    Bytes cursor,
    long rows,
    long changed,
    long rejected) {

  /** Where a commit's application stands. */
  enum Phase {
    /** Waiting for the next commit to be ready. */
    IDLE,
    /** Applying the commit's pending rows. */
    ROWS,
    /** Counting the commit's reject notices. */
    REJECTS
  }

  /** The progress of a repo the partition has not completed any commit of. */
  static final Progress INITIAL = new Progress(0, 0, Phase.IDLE, null, 0, 0, 0);

  /** Starts applying the next commit. */
  Progress start() {
    return new Progress(lastCompleted, members, Phase.ROWS, null, 0, 0, 0);
  }

  /** Records a slice of rows applied. */
  Progress rowsApplied(Bytes next, long moreRows, long moreChanged, long newMembers) {
    return new Progress(
        lastCompleted,
        members + newMembers,
        phase,
        next,
        rows + moreRows,
        changed + moreChanged,
        rejected);
  }

  /** Moves on to counting reject notices. */
  Progress countRejects() {
    return new Progress(lastCompleted, members, Phase.REJECTS, null, rows, changed, rejected);
  }

  /** Records a slice of reject notices counted. */
  Progress rejectsCounted(Bytes next, long moreRejected) {
    return new Progress(
        lastCompleted, members, phase, next, rows, changed, rejected + moreRejected);
  }

  /** Marks the commit being applied completed. */
  Progress completed() {
    return new Progress(lastCompleted + 1, members, Phase.IDLE, null, 0, 0, 0);
  }

  /** A versioned binary serde (this record is internal to the service, so not in the registry). */
  static final class StoreSerde implements Serde<Progress> {
    private static final byte VERSION = 1;

    @Override
    public Serializer<Progress> serializer() {
      return (topic, p) -> {
        if (p == null) {
          return null;
        }
        byte[] cursor = p.cursor() == null ? null : p.cursor().get();
        ByteBuffer buffer =
            ByteBuffer.allocate(1 + 8 * 5 + 1 + 4 + (cursor == null ? 0 : cursor.length));
        buffer.put(VERSION).putLong(p.lastCompleted()).putLong(p.members());
        buffer.put((byte) p.phase().ordinal());
        buffer.putLong(p.rows()).putLong(p.changed()).putLong(p.rejected());
        buffer.putInt(cursor == null ? -1 : cursor.length);
        if (cursor != null) {
          buffer.put(cursor);
        }
        return buffer.array();
      };
    }

    @Override
    public Deserializer<Progress> deserializer() {
      return (topic, data) -> {
        if (data == null) {
          return null;
        }
        ByteBuffer buffer = ByteBuffer.wrap(data);
        byte version = buffer.get();
        if (version != VERSION) {
          throw new SerializationException("unknown progress format version " + version);
        }
        long lastCompleted = buffer.getLong();
        long members = buffer.getLong();
        Phase phase = Phase.values()[buffer.get()];
        long rows = buffer.getLong();
        long changed = buffer.getLong();
        long rejected = buffer.getLong();
        int cursorLength = buffer.getInt();
        Bytes cursor = null;
        if (cursorLength >= 0) {
          byte[] bytes = new byte[cursorLength];
          buffer.get(bytes);
          cursor = Bytes.wrap(bytes);
        }
        return new Progress(lastCompleted, members, phase, cursor, rows, changed, rejected);
      };
    }
  }
}
