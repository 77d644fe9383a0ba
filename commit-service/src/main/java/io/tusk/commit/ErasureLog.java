package io.tusk.commit;

import io.tusk.common.kafka.CompactedTopicView;
import io.tusk.schemas.Erasure;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The erasure log ({@code tusk.erasures}): every erasure request, keyed by its ID. It holds no
 * member content: a request names its member only as SHA-256 over a random salt of its own, the
 * repo, a zero byte and the member key, so the log can answer "was this member erased?" for a
 * caller who knows the key, and nothing to a reader who does not.
 */
final class ErasureLog {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  private final CompactedTopicView<Erasure> view;

  ErasureLog(CompactedTopicView<Erasure> view) {
    this.view = view;
  }

  /** A fresh random salt (16 bytes, hex). */
  static String newSalt() {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return HEX.formatHex(salt);
  }

  /** The member's salted hash as a request records it. */
  static String memberHash(String salt, String repo, String member) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(HEX.parseHex(salt));
      digest.update(repo.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(member.getBytes(StandardCharsets.UTF_8));
      return HEX.formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Whether the request is the erasure of this member of its repo. */
  static boolean names(Erasure erasure, String repo, String member) {
    return erasure.getRepo().equals(repo)
        && MessageDigest.isEqual(
            memberHash(erasure.getSalt(), repo, member).getBytes(StandardCharsets.US_ASCII),
            erasure.getMemberHash().getBytes(StandardCharsets.US_ASCII));
  }

  Optional<Erasure> get(String id) {
    return view.get(id);
  }

  /** The sealed erasures of this member of the repo, oldest first. */
  List<Erasure> of(String repo, String member) {
    return all().stream().filter(e -> e.getCommitId() != null && names(e, repo, member)).toList();
  }

  /** Every request, oldest first (erasures are rare: the log is small). */
  List<Erasure> all() {
    return view.snapshot().values().stream()
        .sorted(Comparator.comparingLong(Erasure::getRequestedAt).thenComparing(Erasure::getId))
        .toList();
  }

  /** Records a request (or its new state) in the view after it was written to the topic. */
  void recorded(Erasure erasure) {
    view.put(erasure.getId(), erasure);
  }

  boolean isHealthy() {
    return view.isHealthy();
  }
}
