package io.tusk.cli.bench;

import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.math.BigDecimal;
import java.util.Map;
import java.util.TreeMap;

/**
 * The benchmark's transform: per member, the number of events by kind, the total amount and the
 * date range. Small and deterministic, so the benchmark measures Tusk rather than user code.
 */
public final class MemberSummary implements Transform {

  @Override
  public String name() {
    return "member-summary";
  }

  @Override
  public TransformOutput apply(DatumInput input) {
    Map<String, Integer> kinds = new TreeMap<>();
    BigDecimal total = BigDecimal.ZERO;
    String first = null;
    String last = null;
    for (DatumInput.InputRow row : input.rows(SyntheticTable.TABLE)) {
      kinds.merge(row.get("KIND"), 1, Integer::sum);
      total = total.add(new BigDecimal(row.get("AMOUNT")));
      String date = row.get("EVENT_DATE");
      first = first == null || date.compareTo(first) < 0 ? date : first;
      last = last == null || date.compareTo(last) > 0 ? date : last;
    }
    StringBuilder json =
        new StringBuilder("{\"member\":\"").append(input.member()).append("\",\"events\":{");
    kinds.forEach(
        (kind, count) -> json.append('"').append(kind).append("\":").append(count).append(','));
    if (!kinds.isEmpty()) {
      json.setLength(json.length() - 1);
    }
    json.append("},\"total\":\"")
        .append(total.toPlainString())
        .append("\",\"first\":\"")
        .append(first);
    json.append("\",\"last\":\"").append(last).append("\"}");
    return TransformOutput.json(json.toString());
  }
}
