package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.common.pipeline.PipelineSpecs;
import java.util.List;
import org.junit.jupiter.api.Test;

class CommandPolicyTest {
  private final CommandPolicy policy = new CommandPolicy(List.of("python3", "/usr/bin/Rscript"));

  private static io.tusk.schemas.PipelineSpec spec(String transform) {
    return PipelineSpecs.parse("name: p\ninput: {repo: r}\n" + transform, 0);
  }

  @Test
  void shouldAllowJavaTransformsAndListedExecutablesMatchedExactly() {
    assertThat(policy.refused(spec("transform: {java: gibleed-insights}\n"))).isEmpty();
    assertThat(policy.refused(spec("transform: {cmd: [python3, x.py]}\n"))).isEmpty();
    assertThat(policy.refused(spec("transform: {cmd: [/usr/bin/Rscript, x.R], worker: true}\n")))
        .isEmpty();
    // A path ending in an allowed name is another executable
    assertThat(policy.refused(spec("transform: {cmd: [/tmp/x/python3, x.py]}\n")))
        .contains("/tmp/x/python3");
    assertThat(policy.refused(spec("transform: {cmd: [Rscript, x.R]}\n"))).contains("Rscript");
  }

  @Test
  void shouldCheckTheErrorCommandToo() {
    assertThat(policy.refused(spec("transform: {cmd: [python3, x.py]}\nerrCmd: [sh, -c, x]\n")))
        .contains("sh");
  }

  @Test
  void shouldAllowNoCommandWithAnEmptyList() {
    assertThat(new CommandPolicy(List.of()).refused(spec("transform: {cmd: [python3, x.py]}\n")))
        .contains("python3");
  }
}
