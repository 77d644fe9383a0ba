package io.tusk.cli.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.transform.OutputContent;
import io.tusk.schemas.Output;
import java.nio.ByteBuffer;

/**
 * One pipeline output as a row of the SQL table: its lineage columns, its bytes, and the same
 * content as text (when it is UTF-8) and as {@code jsonb} (when its content type is JSON), so an
 * analyst can write {@code data_json->>'rows'} without decoding anything.
 *
 * @param dataText null when the bytes are not UTF-8 text PostgreSQL can store (it has no NUL)
 * @param dataJson null unless the content type is JSON and the text parses as JSON
 */
public record OutputRow(
    String member,
    String jobId,
    String commitId,
    String globalId,
    String datumHash,
    String outputHash,
    String contentType,
    byte[] data,
    String dataText,
    String dataJson) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The row of {@code member}'s output. */
  public static OutputRow of(String member, Output output) {
    ByteBuffer buffer = output.getData().duplicate();
    byte[] data = new byte[buffer.remaining()];
    buffer.get(data);
    String text = utf8(data);
    String contentType = output.getContentType();
    String json = text != null && OutputContent.isJson(contentType) && parses(text) ? text : null;
    return new OutputRow(
        member,
        output.getJobId(),
        output.getCommitId(),
        output.getGlobalId(),
        output.getDatumHash(),
        output.getOutputHash(),
        contentType,
        data,
        text,
        json);
  }

  private static boolean parses(String text) {
    // jsonb refuses \u0000 as PostgreSQL text refuses NUL; such an output keeps data_text null too.
    if (text.contains("\\u0000")) {
      return false;
    }
    try {
      JSON.readTree(text);
      return true;
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  private static String utf8(byte[] data) {
    String text = OutputContent.utf8(data);
    return text == null || text.indexOf('\0') >= 0 ? null : text;
  }
}
