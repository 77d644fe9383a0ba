package io.tusk.common.member;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 decoding that rejects malformed bytes instead of replacing them. Not thread-safe. */
final class StrictUtf8 {
  private final CharsetDecoder decoder =
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT);

  /** Decodes {@code length} bytes at {@code offset}; {@code what} names them in the detail. */
  String decode(byte[] bytes, int offset, int length, String what) throws RowRejection {
    try {
      return decoder.decode(ByteBuffer.wrap(bytes, offset, length)).toString();
    } catch (CharacterCodingException e) {
      throw new RowRejection(RejectReason.INVALID_UTF8, what + " is not valid UTF-8");
    }
  }

  String decode(byte[] bytes, String what) throws RowRejection {
    return decode(bytes, 0, bytes.length, what);
  }
}
