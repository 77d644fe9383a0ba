package io.tusk.common.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class JobRefsTest {
  private static final String A = "3f9a2c00000000000000000000000001";
  private static final String B = "3f9a2c11000000000000000000000002";
  private static final String C = "77aa0000000000000000000000000003";

  /** The lookup a service passes: IDs in order, as a sorted store answers. */
  private static final JobRefs.Candidates JOBS =
      (prefix, limit) ->
          new TreeSet<>(List.of(B, A, C))
              .stream().filter(id -> id.startsWith(prefix)).limit(limit).toList();

  @Test
  void shouldResolveAUniquePrefixToItsJobWhenLongEnough() {
    // Given three jobs, two of which share 6 characters
    // Then a unique prefix and a full ID both name their job
    assertThat(JobRefs.resolve("id", "3f9a2c0", JOBS)).isEqualTo(A);
    assertThat(JobRefs.resolve("id", "77aa00", JOBS)).isEqualTo(C);
    assertThat(JobRefs.resolve("id", B, JOBS)).isEqualTo(B);
    assertThat(JobRefs.find("3f9a2c1", JOBS)).contains(B);
  }

  @Test
  void shouldAnswer409ListingCandidatesWhenPrefixIsAmbiguous() {
    assertThatThrownBy(() -> JobRefs.resolve("id", "3f9a2c", JOBS))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("ambiguous")
        .hasMessageContaining(A + ", " + B);
    assertThat(JobRefs.find("3f9a2c", JOBS)).isEmpty();
  }

  @Test
  void shouldAnswer400WhenPrefixIsTooShortOrNotHex() {
    assertThatThrownBy(() -> JobRefs.resolve("id", "3f9a2", JOBS))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("too short");
    for (String bad : new String[] {"", "3F9A2C", "job-3f9a2c", A + "0"}) {
      assertThatThrownBy(() -> JobRefs.resolve("id", bad, JOBS))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(400));
    }
    assertThat(JobRefs.find("3f9a2", JOBS)).isEmpty();
  }

  @Test
  void shouldAnswer404WhenNoJobStartsWithThePrefix() {
    assertThatThrownBy(() -> JobRefs.resolve("id", "abcdef", JOBS))
        .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.status()).isEqualTo(404))
        .hasMessageContaining("abcdef");
  }
}
