package io.tusk.common.transform;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** A transform's result: bytes and their media type. */
public record TransformOutput(String contentType, byte[] data) {

  public TransformOutput {
    Objects.requireNonNull(contentType, "contentType");
    Objects.requireNonNull(data, "data");
  }

  /** A JSON document. */
  public static TransformOutput json(String json) {
    return new TransformOutput("application/json", json.getBytes(StandardCharsets.UTF_8));
  }
}
