package io.tusk.processor.transform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Bounded ends of text: logs and stderr are kept, but never more than their last few KiB. */
final class Tails {
  private Tails() {}

  /** The first {@code max} characters of {@code text}, marked as cut when longer. */
  static String head(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }

  /** The last {@code max} characters of {@code text}, marked as cut when longer. */
  static String tail(String text, int max) {
    if (text == null || text.length() <= max) {
      return text == null ? "" : text;
    }
    String marker = "[...]";
    return marker + text.substring(text.length() - (max - marker.length()));
  }

  /** The last {@code maxBytes} bytes of a file as UTF-8 text (empty if the file is missing). */
  static String tail(Path file, int maxBytes) {
    if (!Files.exists(file)) {
      return "";
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      long from = Math.max(0, size - maxBytes);
      ByteBuffer buffer = ByteBuffer.allocate((int) (size - from));
      int read;
      do {
        read = channel.read(buffer, from + buffer.position());
      } while (read > 0 && buffer.hasRemaining());
      String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
      return from > 0 ? "[...]" + text : text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
