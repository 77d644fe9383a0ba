package io.tusk.processor.transform;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.common.transform.TransformOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The output a per-datum command leaves in {@code out/}: one file is the output as it is, with a
 * content type from its extension; several files become one JSON object from relative path (with
 * '/') to content, in path order: a {@code .json} file's JSON value, any other file's UTF-8 text.
 * No file, a {@code .json} file that is not JSON, or (with several files) a file that is not UTF-8
 * text is invalid output.
 */
final class OutputFiles {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OCTET_STREAM = "application/octet-stream";
  private static final Map<String, String> CONTENT_TYPES =
      Map.ofEntries(
          Map.entry("json", "application/json"),
          Map.entry("jsonl", "application/x-ndjson"),
          Map.entry("ndjson", "application/x-ndjson"),
          Map.entry("csv", "text/csv"),
          Map.entry("tsv", "text/tab-separated-values"),
          Map.entry("txt", "text/plain"),
          Map.entry("md", "text/markdown"),
          Map.entry("html", "text/html"),
          Map.entry("xml", "application/xml"),
          Map.entry("yaml", "application/yaml"),
          Map.entry("yml", "application/yaml"),
          Map.entry("parquet", "application/vnd.apache.parquet"),
          Map.entry("avro", "application/avro"),
          Map.entry("png", "image/png"),
          Map.entry("svg", "image/svg+xml"),
          Map.entry("pdf", "application/pdf"));

  private OutputFiles() {}

  /** Output is not what the contract asks for; the message says why (never the content). */
  static final class InvalidOutputException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidOutputException(String message) {
      super(message);
    }
  }

  /**
   * Reads the output in {@code out}.
   *
   * @param maxBytes the largest output accepted
   */
  static TransformOutput read(Path out, int maxBytes) throws IOException, InvalidOutputException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(out)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    if (files.isEmpty()) {
      throw new InvalidOutputException("the command wrote no file to out/");
    }
    long total = 0;
    for (Path file : files) {
      total += Files.size(file);
    }
    if (total > maxBytes) {
      throw new InvalidOutputException(
          "the output files hold " + total + " bytes, more than the limit of " + maxBytes);
    }
    if (files.size() == 1) {
      Path file = files.get(0);
      byte[] data = Files.readAllBytes(file);
      String type = contentType(file);
      if (type.equals("application/json")) {
        parseJson(out.relativize(file), data);
      }
      return new TransformOutput(type, data);
    }
    ObjectNode object = JSON.createObjectNode();
    for (Path file : files) {
      String name = out.relativize(file).toString().replace('\\', '/');
      byte[] data = Files.readAllBytes(file);
      if (contentType(file).equals("application/json")) {
        object.set(name, parseJson(out.relativize(file), data));
      } else {
        object.put(name, utf8(name, data));
      }
    }
    return new TransformOutput("application/json", JSON.writeValueAsBytes(object));
  }

  /** The media type of a file, from its extension. */
  static String contentType(Path file) {
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return dot < 0
        ? OCTET_STREAM
        : CONTENT_TYPES.getOrDefault(
            name.substring(dot + 1).toLowerCase(Locale.ROOT), OCTET_STREAM);
  }

  private static JsonNode parseJson(Path name, byte[] data) throws InvalidOutputException {
    try {
      JsonNode node = JSON.readTree(data);
      if (node == null || node.isMissingNode()) {
        throw new InvalidOutputException("out/" + name + " is empty, not JSON");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new InvalidOutputException(
          "out/"
              + name
              + " is not valid JSON (line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ")");
    } catch (IOException e) {
      throw new InvalidOutputException("out/" + name + " cannot be read as JSON");
    }
  }

  private static String utf8(String name, byte[] data) throws InvalidOutputException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(data))
          .toString();
    } catch (CharacterCodingException e) {
      throw new InvalidOutputException(
          "out/"
              + name
              + " is not UTF-8 text; with several output files each must be text or JSON");
    }
  }
}
