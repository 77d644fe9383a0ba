package io.tusk.processor.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.common.transform.DatumInput;
import io.tusk.common.transform.DatumInput.InputRow;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.Period;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The demo pipeline's transform: a small clinical insight about one member of the OMOP "GiBleed"
 * sample (OHDSI Eunomia), the question that sample was made for: did a gastrointestinal bleed
 * follow an NSAID exposure?
 *
 * <p>Input tables are named after the sample's CSV files (PERSON, CONDITION_ERA, DRUG_ERA,
 * PROCEDURE_OCCURRENCE, VISIT_OCCURRENCE, OBSERVATION) with the CSV header names as columns. The
 * output is one JSON object with keys in a fixed order and sorted lists:
 *
 * <pre>{@code
 * {"member":"123","sex":"F","ageBand":"60-69",
 *  "nsaidExposures":[{"drug":"celecoxib","conceptId":"1118084","firstStart":"2001-02-03","eras":2}],
 *  "giBleed":{"first":"2005-06-07","afterNsaidExposure":true,"daysAfterFirstExposure":1585},
 *  "chronicConditions":["osteoarthritis","peptic-ulcer"],
 *  "cohortKey":"F|60-69|osteoarthritis+peptic-ulcer"}
 * }</pre>
 *
 * <p>{@code giBleed} is null without a bleed; {@code daysAfterFirstExposure} is null unless the
 * first bleed came strictly after the first NSAID era started. The age band is the member's age at
 * the latest event date in the datum (never today's date), so a re-run reproduces the output byte
 * for byte; sex and age band are {@code "unknown"} without a PERSON row. Nothing depends on row
 * order.
 */
public final class GiBleedInsights implements Transform {
  /** The name pipeline specs use for this transform (ServiceLoader registration). */
  public static final String NAME = "gibleed-insights";

  static final String UNKNOWN = "unknown";

  /** CONDITION_CONCEPT_ID of gastrointestinal hemorrhage. */
  static final String GI_BLEED = "192671";

  /** The NSAIDs of the sample, by DRUG_CONCEPT_ID (ingredient level, as in DRUG_ERA). */
  static final Map<String, String> NSAIDS =
      Map.of(
          "1118084", "celecoxib",
          "1124300", "diclofenac",
          "1115008", "naproxen",
          "1177480", "ibuprofen");

  /**
   * Chronic conditions that matter next to NSAIDs and GI bleeds and occur in the sample's
   * CONDITION_ERA: NSAID indications (arthritis), GI risk factors, and cardiovascular conditions
   * that usually come with antithrombotics.
   */
  static final Map<String, String> CHRONIC_CONDITIONS =
      Map.of(
          "80180", "osteoarthritis",
          "80809", "rheumatoid-arthritis",
          "4027663", "peptic-ulcer",
          "81893", "ulcerative-colitis",
          "4266809", "diverticular-disease",
          "317576", "coronary-arteriosclerosis",
          "313217", "atrial-fibrillation");

  /** Date columns of each event table; the latest of them dates the member's history. */
  private static final Map<String, List<String>> EVENT_DATES =
      Map.of(
          "CONDITION_ERA", List.of("CONDITION_ERA_START_DATE", "CONDITION_ERA_END_DATE"),
          "DRUG_ERA", List.of("DRUG_ERA_START_DATE", "DRUG_ERA_END_DATE"),
          "PROCEDURE_OCCURRENCE", List.of("PROCEDURE_DATE"),
          "VISIT_OCCURRENCE", List.of("VISIT_START_DATE", "VISIT_END_DATE"),
          "OBSERVATION", List.of("OBSERVATION_DATE"));

  private static final List<String> PERSON_COLUMNS =
      List.of("GENDER_CONCEPT_ID", "YEAR_OF_BIRTH", "MONTH_OF_BIRTH", "DAY_OF_BIRTH");

  /** Orders duplicate PERSON rows by the columns read, so the choice ignores arrival order. */
  private static final Comparator<InputRow> PERSON_ORDER =
      PERSON_COLUMNS.stream()
          .map(
              column ->
                  Comparator.comparing(
                      (InputRow row) -> row.get(column),
                      Comparator.nullsFirst(Comparator.<String>naturalOrder())))
          .reduce(Comparator::thenComparing)
          .orElseThrow();

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public TransformOutput apply(DatumInput input) throws JsonProcessingException {
    InputRow person = input.rows("PERSON").stream().min(PERSON_ORDER).orElse(null);
    String sex = person == null ? UNKNOWN : sex(person.get("GENDER_CONCEPT_ID"));
    String ageBand = ageBand(person, latestEventDate(input));
    SortedMap<String, Exposure> exposures = nsaidExposures(input.rows("DRUG_ERA"));
    LocalDate firstExposure =
        exposures.values().stream()
            .map(Exposure::firstStart)
            .filter(d -> d != null)
            .min(Comparator.naturalOrder())
            .orElse(null);
    List<InputRow> conditions = input.rows("CONDITION_ERA");
    LocalDate firstBleed = firstBleed(conditions);
    SortedSet<String> chronic = chronicConditions(conditions);

    ObjectNode out = JSON.createObjectNode();
    out.put("member", input.member());
    out.put("sex", sex);
    out.put("ageBand", ageBand);
    ArrayNode exposureArray = out.putArray("nsaidExposures");
    exposures.forEach(
        (drug, exposure) -> {
          ObjectNode item = exposureArray.addObject();
          item.put("drug", drug);
          item.put("conceptId", exposure.conceptId());
          item.put("firstStart", text(exposure.firstStart()));
          item.put("eras", exposure.eras());
        });
    if (firstBleed == null) {
      out.putNull("giBleed");
    } else {
      boolean after = firstExposure != null && firstExposure.isBefore(firstBleed);
      ObjectNode bleed = out.putObject("giBleed");
      bleed.put("first", firstBleed.toString());
      bleed.put("afterNsaidExposure", after);
      if (after) {
        bleed.put("daysAfterFirstExposure", ChronoUnit.DAYS.between(firstExposure, firstBleed));
      } else {
        bleed.putNull("daysAfterFirstExposure");
      }
    }
    ArrayNode chronicArray = out.putArray("chronicConditions");
    chronic.forEach(chronicArray::add);
    out.put(
        "cohortKey",
        sex + "|" + ageBand + "|" + (chronic.isEmpty() ? "none" : String.join("+", chronic)));
    return TransformOutput.json(JSON.writeValueAsString(out));
  }

  /** One NSAID's eras: how many, and when the first began. */
  private record Exposure(String conceptId, LocalDate firstStart, int eras) {
    Exposure add(LocalDate start) {
      LocalDate first =
          firstStart == null || (start != null && start.isBefore(firstStart)) ? start : firstStart;
      return new Exposure(conceptId, first, eras + 1);
    }
  }

  private static SortedMap<String, Exposure> nsaidExposures(List<InputRow> drugEras) {
    SortedMap<String, Exposure> byDrug = new TreeMap<>();
    for (InputRow row : drugEras) {
      String concept = row.get("DRUG_CONCEPT_ID");
      String drug = concept == null ? null : NSAIDS.get(concept);
      if (drug != null) {
        LocalDate start = date(row, "DRUG_ERA_START_DATE");
        byDrug.merge(drug, new Exposure(concept, start, 1), (old, ignored) -> old.add(start));
      }
    }
    return byDrug;
  }

  private static LocalDate firstBleed(List<InputRow> conditions) {
    LocalDate first = null;
    for (InputRow row : conditions) {
      if (GI_BLEED.equals(row.get("CONDITION_CONCEPT_ID"))) {
        first = earliest(first, date(row, "CONDITION_ERA_START_DATE"));
      }
    }
    return first;
  }

  private static SortedSet<String> chronicConditions(List<InputRow> conditions) {
    SortedSet<String> names = new TreeSet<>();
    for (InputRow row : conditions) {
      String concept = row.get("CONDITION_CONCEPT_ID");
      String name = concept == null ? null : CHRONIC_CONDITIONS.get(concept);
      if (name != null) {
        names.add(name);
      }
    }
    return names;
  }

  private static LocalDate latestEventDate(DatumInput input) {
    LocalDate latest = null;
    for (var table : EVENT_DATES.entrySet()) {
      for (InputRow row : input.rows(table.getKey())) {
        for (String column : table.getValue()) {
          LocalDate date = date(row, column);
          if (date != null && (latest == null || date.isAfter(latest))) {
            latest = date;
          }
        }
      }
    }
    return latest;
  }

  private static String sex(String genderConcept) {
    if ("8532".equals(genderConcept)) {
      return "F";
    }
    if ("8507".equals(genderConcept)) {
      return "M";
    }
    return UNKNOWN;
  }

  /** The 10-year band of the age at {@code at}; unknown without a birth year or an event date. */
  private static String ageBand(InputRow person, LocalDate at) {
    if (person == null || at == null || blank(person.get("YEAR_OF_BIRTH"))) {
      return UNKNOWN;
    }
    int age = Period.between(birthDate(person), at).getYears();
    if (age < 0) {
      return UNKNOWN;
    }
    int low = age / 10 * 10;
    return low + "-" + (low + 9);
  }

  /** Birth date from the OMOP parts; month and day are optional in OMOP and default to 1. */
  private static LocalDate birthDate(InputRow person) {
    int year = number(person, "YEAR_OF_BIRTH", 0);
    int month = number(person, "MONTH_OF_BIRTH", 1);
    int day = number(person, "DAY_OF_BIRTH", 1);
    try {
      return LocalDate.of(year, month, day);
    } catch (DateTimeException e) {
      // The JDK's message quotes the value; messages must not carry health data.
      throw new IllegalArgumentException("PERSON birth date parts do not form a date");
    }
  }

  private static int number(InputRow row, String column, int absent) {
    String value = row.get(column);
    if (blank(value)) {
      return absent;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(row.table() + "." + column + " is not a whole number");
    }
  }

  /** An ISO date (a datetime's date part is accepted); null when blank. */
  private static LocalDate date(InputRow row, String column) {
    String value = row.get(column);
    if (blank(value)) {
      return null;
    }
    String text = value.trim();
    if (text.length() > 10 && text.charAt(10) == 'T') {
      text = text.substring(0, 10);
    }
    try {
      return LocalDate.parse(text);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException(row.table() + "." + column + " is not an ISO date");
    }
  }

  private static LocalDate earliest(LocalDate a, LocalDate b) {
    if (a == null) {
      return b;
    }
    return b == null || !b.isBefore(a) ? a : b;
  }

  private static String text(LocalDate date) {
    return date == null ? null : date.toString();
  }

  private static boolean blank(String value) {
    return value == null || value.isBlank();
  }
}
