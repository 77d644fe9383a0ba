package io.tusk.processor.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Map;
import java.util.TreeMap;

/**
 * The demo's second stage: per cohort (a {@link GiBleedInsights} cohort key), for each NSAID, the
 * members exposed, the GI bleeds that followed an exposure, and their rate. Its input is the first
 * pipeline's output re-keyed by cohort (the derived repo {@code gibleed-insights-by-cohortkey}, one
 * row per member with columns {@code member}, {@code cohortKey} and {@code data}), so a weekly
 * update recomputes only the cohorts whose members' insights changed.
 *
 * <pre>{@code
 * {"cohort":"F|60-69|osteoarthritis","members":42,
 *  "drugs":[{"drug":"celecoxib","exposed":12,"bleedsAfterExposure":3,"rate":"0.2500"}]}
 * }</pre>
 */
public final class CohortRates implements Transform {
  /** The name pipeline specs use for this transform. */
  public static final String NAME = "cohort-rates";

  /** The derived repo's only table. */
  static final String TABLE = "output";

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TransformOutput apply(DatumInput input) throws Exception {
    Map<String, int[]> byDrug = new TreeMap<>();
    int members = 0;
    for (DatumInput.InputRow row : input.rows(TABLE)) {
      members++;
      JsonNode insight = JSON.readTree(row.get("data"));
      boolean bleedAfterExposure =
          insight.path("giBleed").path("afterNsaidExposure").asBoolean(false);
      for (JsonNode exposure : insight.path("nsaidExposures")) {
        int[] counts = byDrug.computeIfAbsent(exposure.path("drug").asText(), d -> new int[2]);
        counts[0]++;
        counts[1] += bleedAfterExposure ? 1 : 0;
      }
    }
    ObjectNode out = JSON.createObjectNode().put("cohort", input.member()).put("members", members);
    ArrayNode drugs = out.putArray("drugs");
    byDrug.forEach(
        (drug, counts) ->
            drugs
                .addObject()
                .put("drug", drug)
                .put("exposed", counts[0])
                .put("bleedsAfterExposure", counts[1])
                .put(
                    "rate",
                    BigDecimal.valueOf(counts[1])
                        .divide(BigDecimal.valueOf(counts[0]), 4, RoundingMode.HALF_EVEN)
                        .toPlainString()));
    return TransformOutput.json(JSON.writeValueAsString(out));
  }
}
