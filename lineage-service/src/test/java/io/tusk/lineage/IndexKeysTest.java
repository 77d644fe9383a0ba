package io.tusk.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.Ids;
import io.tusk.schemas.DatumState;
import org.junit.jupiter.api.Test;

class IndexKeysTest {

  @Test
  void shouldDecodeTheDatumStateKeyWhenTheEncoderMadeIt() {
    // Given a datum-states key of a member whose key has the characters a range key must survive
    String jobId = Ids.newId();
    IndexKeys.DatumStateKey key =
        new IndexKeys.DatumStateKey(jobId, DatumState.FAILED, "member/1 with spaces");

    // When encoded and decoded
    String encoded = key.encode();

    // Then the parts come back typed, the key routes by its job and sits under the state's prefix
    assertThat(IndexKeys.DatumStateKey.decode(encoded)).isEqualTo(key);
    assertThat(StoreKeys.routing(encoded)).isEqualTo(jobId);
    assertThat(encoded).startsWith(IndexKeys.DatumStateKey.prefix(jobId, DatumState.FAILED));
    assertThat(IndexKeys.datum(jobId, "m1")).startsWith(IndexKeys.datumsOf(jobId));
  }

  @Test
  void shouldRefuseToDecodeWhenTheKeyHasTooFewParts() {
    // Given a datums-store key (two parts), not a datum-states key (three)
    String datumKey = IndexKeys.datum(Ids.newId(), "m1");

    // When decoded as a datum-states key / Then the mismatch is named, not read positionally
    assertThatThrownBy(() -> IndexKeys.DatumStateKey.decode(datumKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("2 parts where 3 were expected");
  }
}
