package io.tusk.cli.soak;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SortedMap;
import java.util.zip.CRC32;

/**
 * What the soak's transforms output, as plain functions of their input, so the reference model can
 * say what an output must be without running a transform or any product code.
 */
public final class SoakOutputs {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The field of a first-stage output that the second stage groups by. */
  public static final String GROUP_FIELD = "group";

  private SoakOutputs() {}

  /** True if a member with this row fails the first-stage transform. */
  public static boolean fails(String table, List<String> values, boolean flakyFails) {
    if (!table.equals(SoakTables.EVENT)) {
      return false;
    }
    String code = values.get(SoakTables.EVENT_CODE);
    return SoakTables.FAIL_CODE.equals(code) || (flakyFails && SoakTables.FLAKY_CODE.equals(code));
  }

  /**
   * The first stage's output of a member: its rows' texts (sorted) under the transform variant, and
   * a group that depends on the row count and the variant (so an update regroups members).
   */
  public static String rowsOutput(String variant, String member, List<String> sortedRowTexts) {
    ObjectNode out = JSON.createObjectNode().put("member", member);
    out.put(GROUP_FIELD, groupOf(variant, sortedRowTexts.size())).put("variant", variant);
    sortedRowTexts.forEach(out.putArray("rows")::add);
    return out.toString();
  }

  /** The group of a member with {@code rows} rows under the transform variant. */
  public static String groupOf(String variant, int rows) {
    return "g" + (rows % (variant.equals("a") ? 3 : 2));
  }

  /** The second stage's output of a group: each upstream member with a checksum of its output. */
  public static String groupsOutput(String group, SortedMap<String, String> dataByMember) {
    ObjectNode out = JSON.createObjectNode().put(GROUP_FIELD, group);
    dataByMember.forEach(
        (member, data) -> out.withArray("members").add(member + ":" + checksum(data)));
    return out.toString();
  }

  private static String checksum(String data) {
    CRC32 crc = new CRC32();
    crc.update(data.getBytes(StandardCharsets.UTF_8));
    return Long.toHexString(crc.getValue());
  }
}
