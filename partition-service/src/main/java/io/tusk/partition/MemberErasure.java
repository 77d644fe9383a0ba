package io.tusk.partition;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serde;

/**
 * An erased member whose removal datums are not all done yet (store {@code member-erasures-store},
 * key {@code repo | member}): the erasure request, the erasure commit's sequence, and per pipeline
 * of that commit's jobs still to clear, the datum hash of its removal datum. A pipeline is cleared
 * once its removal datum succeeded, or at once when the member has no output there; then the
 * member's datum state and failed-datum record of that pipeline are gone.
 *
 * @param request the erasure request ID
 * @param sequence the erasure commit's sequence
 * @param pending pipeline to the datum hash of its removal datum, for the pipelines not cleared yet
 */
record MemberErasure(String request, long sequence, Map<String, String> pending) {
  static final Serde<MemberErasure> SERDE =
      Binary.serde(
          "member erasure",
          (byte) 1,
          (e, w) -> {
            w.putString(e.request()).putLong(e.sequence()).putInt(e.pending().size());
            e.pending().forEach((pipeline, hash) -> w.putString(pipeline).putString(hash));
          },
          r -> {
            String request = r.getString();
            long sequence = r.getLong();
            int n = r.getInt();
            Map<String, String> pending = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
              pending.put(r.getString(), r.getString());
            }
            return new MemberErasure(request, sequence, pending);
          });

  MemberErasure {
    // Sorted, so the same erasure always encodes to the same bytes.
    pending = Collections.unmodifiableMap(new TreeMap<>(pending));
  }

  /** Whether {@code pipeline} still has to clear the member. */
  boolean pendingIn(String pipeline) {
    return pending.containsKey(pipeline);
  }

  /** The erasure with {@code pipeline} cleared. */
  MemberErasure cleared(String pipeline) {
    Map<String, String> rest = new LinkedHashMap<>(pending);
    rest.remove(pipeline);
    return new MemberErasure(request, sequence, rest);
  }
}
