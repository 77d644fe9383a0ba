package io.tusk.testfixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class AwaitTest {
  private static final Duration SHORT = Duration.ofMillis(300);
  private static final Duration TICK = Duration.ofMillis(5);

  @Test
  void shouldReturnOnceTheConditionHoldsWhenItTurnsTrueAfterSomeChecks() {
    // Given a condition that holds at its third check
    AtomicInteger checks = new AtomicInteger();

    // When awaited
    Await.until(
        "the third check", Duration.ofSeconds(10), TICK, () -> checks.incrementAndGet() == 3);

    // Then it was checked exactly until it held
    assertThat(checks).hasValue(3);
  }

  @Test
  void shouldFailNamingWhatWasAwaitedWhenTheDeadlinePasses() {
    // Given a condition that never holds
    AtomicInteger checks = new AtomicInteger();
    long started = System.nanoTime();

    // When awaited / Then an AssertionError names it and the deadline, after the deadline
    assertThatThrownBy(
            () -> Await.until("the impossible", SHORT, TICK, () -> checks.incrementAndGet() < 0))
        .isInstanceOf(AssertionError.class)
        .hasMessage("the impossible: not within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(SHORT);
    assertThat(checks.get()).isGreaterThan(1);
  }

  @Test
  void shouldCheckOnceWhenTheDeadlineIsZero() {
    AtomicInteger checks = new AtomicInteger();

    assertThatThrownBy(
            () -> Await.until("never", Duration.ZERO, () -> checks.incrementAndGet() < 0))
        .isInstanceOf(AssertionError.class);
    assertThat(checks).hasValue(1);
    Await.until("at once", Duration.ZERO, () -> true);
  }

  @Test
  void shouldReturnTheAcceptedValueWhenAProbeIsAwaited() {
    // Given a probe counting up
    AtomicInteger counter = new AtomicInteger();

    // When awaited until it reaches 4
    int value =
        Await.until("four", Duration.ofSeconds(10), TICK, counter::incrementAndGet, v -> v >= 4);

    // Then the accepted value comes back
    assertThat(value).isEqualTo(4);
  }

  @Test
  void shouldShowTheLastValueWhenAProbedValueIsNeverAccepted() {
    assertThatThrownBy(
            () -> Await.until("a green light", SHORT, TICK, () -> "red", "green"::equals))
        .isInstanceOf(AssertionError.class)
        .hasMessage("a green light: not within 300 ms; last: red");
  }

  static Stream<Throwable> uncheckedFailures() {
    return Stream.of(new AssertionError("inner"), new IllegalArgumentException("bad"));
  }

  @ParameterizedTest
  @MethodSource("uncheckedFailures")
  void shouldPassTheConditionsOwnFailureThroughWhenItIsUnchecked(Throwable failure) {
    assertThatThrownBy(() -> Await.until("x", SHORT, () -> throwUnchecked(failure)))
        .isSameAs(failure);
  }

  @Test
  void shouldFailAsAnErrorNamingWhatWasAwaitedWhenTheProbeThrowsACheckedException() {
    IOException cause = new IOException("connection refused");

    assertThatThrownBy(
            () ->
                Await.until(
                    "the service answers",
                    SHORT,
                    () -> {
                      throw cause;
                    },
                    v -> true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("the service answers")
        .hasCause(cause);
  }

  @Test
  void shouldStopAndKeepTheInterruptWhenTheWaitingThreadIsInterrupted() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Await.until("never", Duration.ofSeconds(10), () -> false))
          .isInstanceOf(AssertionError.class)
          .hasMessage("interrupted waiting for never");
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  private static boolean throwUnchecked(Throwable failure) {
    if (failure instanceof Error error) {
      throw error;
    }
    throw (RuntimeException) failure;
  }
}
