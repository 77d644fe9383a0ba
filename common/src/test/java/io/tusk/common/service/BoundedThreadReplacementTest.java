package io.tusk.common.service;

import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
import static org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class BoundedThreadReplacementTest {
  private final AtomicLong clock = new AtomicLong();
  private final List<String> reasons = new ArrayList<>();
  private final BoundedThreadReplacement handler =
      new BoundedThreadReplacement(
          "test-app",
          BoundedThreadReplacement.MAX_REPLACEMENTS,
          BoundedThreadReplacement.WINDOW,
          clock::get,
          reasons::add);

  @Test
  void shouldShutTheClientDownWhenThreadsFailMoreOftenThanTheBound() {
    // Given a thread that fails on the same record every time it is replaced, seconds apart
    List<Object> responses = new ArrayList<>();

    // When it fails one time more than the bound allows
    for (int i = 0; i <= BoundedThreadReplacement.MAX_REPLACEMENTS; i++) {
      responses.add(handler.handle(new RuntimeException(new IllegalStateException("poison"))));
      clock.addAndGet(Duration.ofSeconds(5).toNanos());
    }

    // Then it is replaced up to the bound, then the client shuts down and the owner hears why
    assertThat(responses)
        .containsExactly(REPLACE_THREAD, REPLACE_THREAD, REPLACE_THREAD, SHUTDOWN_CLIENT);
    assertThat(handler.gaveUp()).isTrue();
    assertThat(reasons)
        .singleElement()
        .asString()
        .contains("test-app", "3 thread replacements within 10 min", "IllegalStateException");
    // And a later failure (another thread of the stopping client) is not replaced either
    assertThat(handler.handle(new IllegalStateException("again"))).isEqualTo(SHUTDOWN_CLIENT);
  }

  @Test
  void shouldKeepReplacingWhenFailuresAreFurtherApartThanTheWindow() {
    // Given failures that each come after the previous ones left the window
    for (int i = 0; i < 10; i++) {
      // When a thread fails / Then it is replaced every time
      assertThat(handler.handle(new IllegalStateException("transient"))).isEqualTo(REPLACE_THREAD);
      clock.addAndGet(BoundedThreadReplacement.WINDOW.toNanos() / 3 + 1);
    }
    assertThat(handler.gaveUp()).isFalse();
    assertThat(reasons).isEmpty();
  }

  @Test
  void shouldShutTheClientDownAtOnceWhenTheClassifierNamesTheFailureFatal() {
    // Given a handler that knows a denied group cannot be retried away
    BoundedThreadReplacement denying =
        new BoundedThreadReplacement(
            "test-app",
            failure ->
                failure.getCause() instanceof GroupAuthorizationException
                    ? Optional.of("no READ on group test-app")
                    : Optional.empty(),
            reasons::add);

    // When the first thread fails on it (wrapped, as Kafka Streams reports it)
    var response =
        denying.handle(new StreamsException(new GroupAuthorizationException("denied", "test-app")));

    // Then the client shuts down without a replacement and the owner hears the classifier's reason
    assertThat(response).isEqualTo(SHUTDOWN_CLIENT);
    assertThat(denying.gaveUp()).isTrue();
    assertThat(reasons).containsExactly("no READ on group test-app");
  }

  @Test
  void shouldReplaceFailuresTheClassifierDoesNotName() {
    // Given a handler whose classifier names nothing fatal here
    BoundedThreadReplacement handler =
        new BoundedThreadReplacement("test-app", failure -> Optional.empty(), reasons::add);

    // When a thread fails / Then it is replaced as before
    assertThat(handler.handle(new IllegalStateException("transient"))).isEqualTo(REPLACE_THREAD);
    assertThat(reasons).isEmpty();
  }
}
