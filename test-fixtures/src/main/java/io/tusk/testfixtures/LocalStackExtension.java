package io.tusk.testfixtures;

import io.tusk.localstack.LocalStack;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit extension that shares ONE {@link LocalStack} (broker and registry) among all the test
 * classes of a test JVM: started with ephemeral ports when the first class that uses it starts,
 * stopped when the whole run ends. Its home is {@code target/local-stack-<timestamp>} under the
 * working directory, kept afterwards for post-mortems.
 *
 * <pre>{@code
 * @ExtendWith(LocalStackExtension.class)
 * class OrdersIT {
 *   @Test
 *   void shouldX(LocalStack stack) { ... stack.bootstrapServers() ... }
 * }
 * }</pre>
 *
 * Tests share the broker, so each one must use its own topic names, group IDs and transactional
 * IDs.
 */
public final class LocalStackExtension implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(LocalStackExtension.class);
  private static final DateTimeFormatter HOME_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

  private static volatile LocalStack shared;

  /**
   * The stack this extension started, for code that cannot take a {@link LocalStack} parameter
   * (static helpers, {@code @MethodSource} factories).
   *
   * @throws IllegalStateException if no test class using the extension has started yet
   */
  public static LocalStack shared() {
    LocalStack stack = shared;
    if (stack == null) {
      throw new IllegalStateException(
          "No local stack: annotate the test class with @ExtendWith(LocalStackExtension.class)");
    }
    return stack;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    stack(context);
  }

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == LocalStack.class;
  }

  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return stack(extensionContext);
  }

  /**
   * The root store outlives every test class, and JUnit closes its AutoCloseable values once, at
   * the end of the run; its computeIfAbsent is atomic, so parallel classes still start one stack.
   */
  private static LocalStack stack(ExtensionContext context) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .computeIfAbsent(LocalStack.class, key -> new SharedStack(startStack()), SharedStack.class)
        .stack();
  }

  private static LocalStack startStack() {
    Path home = Path.of("target", "local-stack-" + LocalDateTime.now().format(HOME_STAMP));
    LocalStack stack = LocalStack.start(home, LocalStack.Ports.ephemeral());
    shared = stack;
    return stack;
  }

  /** The store entry: closing it also clears {@link #shared()}. */
  private record SharedStack(LocalStack stack) implements AutoCloseable {
    @Override
    public void close() {
      shared = null;
      stack.close();
    }
  }
}
