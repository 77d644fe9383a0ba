package io.tusk.processor;

import io.tusk.common.member.Hashing;
import io.tusk.common.member.MemberObjects;
import io.tusk.common.member.RepoLayout;
import io.tusk.schemas.Datum;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Members shaped like the OMOP GiBleed sample: its six tables with the sample's CSV header names as
 * columns, PERSON_ID as member key and each table's ID column as row key. Values are synthetic.
 */
public final class OmopFixtures {
  /** Columns of each table, as in the sample's CSV headers. */
  public static final Map<String, List<String>> COLUMNS =
      Map.of(
          "PERSON",
          List.of(
              "PERSON_ID",
              "GENDER_CONCEPT_ID",
              "YEAR_OF_BIRTH",
              "MONTH_OF_BIRTH",
              "DAY_OF_BIRTH",
              "BIRTH_DATETIME",
              "RACE_CONCEPT_ID",
              "ETHNICITY_CONCEPT_ID",
              "LOCATION_ID",
              "PROVIDER_ID",
              "CARE_SITE_ID",
              "PERSON_SOURCE_VALUE",
              "GENDER_SOURCE_VALUE",
              "GENDER_SOURCE_CONCEPT_ID",
              "RACE_SOURCE_VALUE",
              "RACE_SOURCE_CONCEPT_ID",
              "ETHNICITY_SOURCE_VALUE",
              "ETHNICITY_SOURCE_CONCEPT_ID"),
          "CONDITION_ERA",
          List.of(
              "CONDITION_ERA_ID",
              "PERSON_ID",
              "CONDITION_CONCEPT_ID",
              "CONDITION_ERA_START_DATE",
              "CONDITION_ERA_END_DATE",
              "CONDITION_OCCURRENCE_COUNT"),
          "DRUG_ERA",
          List.of(
              "DRUG_ERA_ID",
              "PERSON_ID",
              "DRUG_CONCEPT_ID",
              "DRUG_ERA_START_DATE",
              "DRUG_ERA_END_DATE",
              "DRUG_EXPOSURE_COUNT",
              "GAP_DAYS"),
          "PROCEDURE_OCCURRENCE",
          List.of(
              "PROCEDURE_OCCURRENCE_ID",
              "PERSON_ID",
              "PROCEDURE_CONCEPT_ID",
              "PROCEDURE_DATE",
              "PROCEDURE_DATETIME",
              "PROCEDURE_TYPE_CONCEPT_ID",
              "MODIFIER_CONCEPT_ID",
              "QUANTITY",
              "PROVIDER_ID",
              "VISIT_OCCURRENCE_ID",
              "VISIT_DETAIL_ID",
              "PROCEDURE_SOURCE_VALUE",
              "PROCEDURE_SOURCE_CONCEPT_ID",
              "MODIFIER_SOURCE_VALUE"),
          "VISIT_OCCURRENCE",
          List.of(
              "VISIT_OCCURRENCE_ID",
              "PERSON_ID",
              "VISIT_CONCEPT_ID",
              "VISIT_START_DATE",
              "VISIT_START_DATETIME",
              "VISIT_END_DATE",
              "VISIT_END_DATETIME",
              "VISIT_TYPE_CONCEPT_ID",
              "PROVIDER_ID",
              "CARE_SITE_ID",
              "VISIT_SOURCE_VALUE",
              "VISIT_SOURCE_CONCEPT_ID",
              "ADMITTING_SOURCE_CONCEPT_ID",
              "ADMITTING_SOURCE_VALUE",
              "DISCHARGE_TO_CONCEPT_ID",
              "DISCHARGE_TO_SOURCE_VALUE",
              "PRECEDING_VISIT_OCCURRENCE_ID"),
          "OBSERVATION",
          List.of(
              "OBSERVATION_ID",
              "PERSON_ID",
              "OBSERVATION_CONCEPT_ID",
              "OBSERVATION_DATE",
              "OBSERVATION_DATETIME",
              "OBSERVATION_TYPE_CONCEPT_ID",
              "VALUE_AS_NUMBER",
              "VALUE_AS_STRING",
              "VALUE_AS_CONCEPT_ID",
              "QUALIFIER_CONCEPT_ID",
              "UNIT_CONCEPT_ID",
              "PROVIDER_ID",
              "VISIT_OCCURRENCE_ID",
              "VISIT_DETAIL_ID",
              "OBSERVATION_SOURCE_VALUE",
              "OBSERVATION_SOURCE_CONCEPT_ID",
              "UNIT_SOURCE_VALUE",
              "QUALIFIER_SOURCE_VALUE"));

  public static final String CELECOXIB = "1118084";
  public static final String DICLOFENAC = "1124300";
  public static final String NAPROXEN = "1115008";
  public static final String IBUPROFEN = "1177480";
  public static final String GI_BLEED = "192671";
  public static final String OSTEOARTHRITIS = "80180";
  public static final String PEPTIC_ULCER = "4027663";
  public static final String ATRIAL_FIBRILLATION = "313217";
  public static final String VIRAL_SINUSITIS = "40481087";
  public static final String ACETAMINOPHEN = "1125315";

  private OmopFixtures() {}

  /** A repo of the six OMOP tables. */
  public static RepoSpec repo(String name) {
    List<TableSpec> tables = new ArrayList<>();
    COLUMNS.keySet().stream()
        .sorted()
        .forEach(
            table -> {
              List<String> columns = COLUMNS.get(table);
              tables.add(
                  TableSpec.newBuilder()
                      .setName(table)
                      .setColumns(columns)
                      .setMemberKey("PERSON_ID")
                      .setRowKey(List.of(columns.get(0)))
                      .build());
            });
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(RowFormat.CSV)
        .setDefaultTable("CONDITION_ERA")
        .setTables(tables)
        .setUpdatePartitions(3)
        .setMemberPartitions(4)
        .setCreatedAt(0)
        .build();
  }

  /** A builder of one member's rows. */
  public static Member member(String personId) {
    return new Member(personId);
  }

  /** A datum of {@code member} for one job of a pipeline. */
  public static Datum datum(String pipeline, String jobId, String commitId, MemberObject member) {
    String specHash = Hashing.specHash(member.getRepo(), "JAVA", "gibleed-insights");
    return Datum.newBuilder()
        .setPipeline(pipeline)
        .setJobId(jobId)
        .setCommitId(commitId)
        .setGlobalId(commitId)
        .setDatumHash(Hashing.datumHash(specHash, member.getHash()))
        .setSpecHash(specHash)
        .setMemberObject(member)
        .build();
  }

  /**
   * {@code whole} as the member side sends a large datum: {@code parts} records (part 0..parts-1,
   * each a slice of the rows, in order), all with the same job, datum hash and member; the member
   * object says how many rows and parts there are.
   */
  public static List<Datum> parts(Datum whole, int parts) {
    List<Row> rows = whole.getMemberObject().getRows();
    List<Datum> split = new ArrayList<>(parts);
    for (int i = 0; i < parts; i++) {
      List<Row> slice = rows.subList(rows.size() * i / parts, rows.size() * (i + 1) / parts);
      MemberObject member =
          MemberObject.newBuilder(whole.getMemberObject())
              .setRows(new ArrayList<>(slice))
              .setRowCount(rows.size())
              .setParts(parts)
              .build();
      split.add(Datum.newBuilder(whole).setMemberObject(member).setPart(i).setParts(parts).build());
    }
    return split;
  }

  /**
   * A plausible member: a PERSON row, a few NSAID and other drug eras, common and chronic
   * conditions, sometimes a GI bleed, visits, procedures and an observation; dates from 1990 on.
   */
  public static Member random(Random random, String personId) {
    Member m = member(personId);
    int birthYear = 1930 + random.nextInt(60);
    m.person(
        random.nextBoolean() ? "8532" : "8507",
        birthYear,
        1 + random.nextInt(12),
        1 + random.nextInt(28));
    LocalDate start = LocalDate.of(1990 + random.nextInt(20), 1, 1).plusDays(random.nextInt(365));
    List<String> nsaids = List.of(CELECOXIB, DICLOFENAC, NAPROXEN, IBUPROFEN);
    for (int i = 0, n = 1 + random.nextInt(4); i < n; i++) {
      LocalDate from = start.plusDays(random.nextInt(3000));
      m.drugEra(nsaids.get(random.nextInt(nsaids.size())), from, from.plusDays(30));
    }
    LocalDate other = start.plusDays(random.nextInt(3000));
    m.drugEra(ACETAMINOPHEN, other, other.plusDays(14));
    m.conditionEra(OSTEOARTHRITIS, start, start.plusDays(5000));
    LocalDate sinusitis = start.plusDays(random.nextInt(3000));
    m.conditionEra(VIRAL_SINUSITIS, sinusitis, sinusitis.plusDays(10));
    if (random.nextInt(4) == 0) {
      m.conditionEra(PEPTIC_ULCER, start.plusDays(100), start.plusDays(400));
    }
    if (random.nextInt(5) == 0) {
      LocalDate bleed = start.plusDays(random.nextInt(4000));
      m.conditionEra(GI_BLEED, bleed, bleed.plusDays(3));
    }
    for (int i = 0, n = 1 + random.nextInt(3); i < n; i++) {
      LocalDate visit = start.plusDays(random.nextInt(4000));
      m.visit(visit, visit.plusDays(1));
      m.procedure("4107731", visit);
    }
    m.observation("4323208", start.plusDays(random.nextInt(4000)));
    return m;
  }

  /** One member's rows, built table by table; IDs are unique within the member. */
  public static final class Member {
    private final String personId;
    private final List<Row> rows = new ArrayList<>();
    private int nextId = 1;

    private Member(String personId) {
      this.personId = personId;
    }

    public String personId() {
      return personId;
    }

    public Member person(String genderConcept, int year, int month, int day) {
      return add(
          "PERSON",
          Map.of(
              "PERSON_ID",
              personId,
              "GENDER_CONCEPT_ID",
              genderConcept,
              "YEAR_OF_BIRTH",
              Integer.toString(year),
              "MONTH_OF_BIRTH",
              Integer.toString(month),
              "DAY_OF_BIRTH",
              Integer.toString(day),
              "BIRTH_DATETIME",
              LocalDate.of(year, month, day) + "T00:00:00Z",
              "RACE_CONCEPT_ID",
              "8527",
              "ETHNICITY_CONCEPT_ID",
              "0"));
    }

    public Member conditionEra(String concept, LocalDate start, LocalDate end) {
      return add(
          "CONDITION_ERA",
          Map.of(
              "CONDITION_ERA_ID", id(),
              "CONDITION_CONCEPT_ID", concept,
              "CONDITION_ERA_START_DATE", start.toString(),
              "CONDITION_ERA_END_DATE", end.toString(),
              "CONDITION_OCCURRENCE_COUNT", "1"));
    }

    public Member drugEra(String concept, LocalDate start, LocalDate end) {
      return add(
          "DRUG_ERA",
          Map.of(
              "DRUG_ERA_ID",
              id(),
              "DRUG_CONCEPT_ID",
              concept,
              "DRUG_ERA_START_DATE",
              start.toString(),
              "DRUG_ERA_END_DATE",
              end.toString(),
              "DRUG_EXPOSURE_COUNT",
              "1",
              "GAP_DAYS",
              "0"));
    }

    public Member procedure(String concept, LocalDate date) {
      return add(
          "PROCEDURE_OCCURRENCE",
          Map.of(
              "PROCEDURE_OCCURRENCE_ID",
              id(),
              "PROCEDURE_CONCEPT_ID",
              concept,
              "PROCEDURE_DATE",
              date.toString(),
              "PROCEDURE_DATETIME",
              date + "T00:00:00Z",
              "PROCEDURE_TYPE_CONCEPT_ID",
              "38000275"));
    }

    public Member visit(LocalDate start, LocalDate end) {
      return add(
          "VISIT_OCCURRENCE",
          Map.of(
              "VISIT_OCCURRENCE_ID",
              id(),
              "VISIT_CONCEPT_ID",
              "9201",
              "VISIT_START_DATE",
              start.toString(),
              "VISIT_START_DATETIME",
              start + "T00:00:00Z",
              "VISIT_END_DATE",
              end.toString(),
              "VISIT_END_DATETIME",
              end + "T00:00:00Z",
              "VISIT_TYPE_CONCEPT_ID",
              "44818517"));
    }

    public Member observation(String concept, LocalDate date) {
      return add(
          "OBSERVATION",
          Map.of(
              "OBSERVATION_ID",
              id(),
              "OBSERVATION_CONCEPT_ID",
              concept,
              "OBSERVATION_DATE",
              date.toString(),
              "OBSERVATION_DATETIME",
              date + "T00:00:00Z",
              "OBSERVATION_TYPE_CONCEPT_ID",
              "38000276"));
    }

    /** The rows in the order they were added, with source positions 0, 1, 2... */
    public List<Row> rows() {
      return List.copyOf(rows);
    }

    /** The member object of these rows (canonical order and content hash) in a commit. */
    public MemberObject object(RepoSpec repo, String commitId) {
      return object(repo, commitId, rows);
    }

    /** The member object of {@code rows} in the given order, not canonicalized. */
    public MemberObject objectInOrder(RepoSpec repo, String commitId, List<Row> rows) {
      return MemberObject.newBuilder()
          .setRepo(repo.getName())
          .setMember(personId)
          .setHash(Hashing.memberHash(rows))
          .setCommitId(commitId)
          .setSequence(1)
          .setRows(rows)
          .build();
    }

    private MemberObject object(RepoSpec repo, String commitId, List<Row> source) {
      List<Row> canonical = MemberObjects.apply(List.of(), source, new RepoLayout(repo));
      return objectInOrder(repo, commitId, canonical);
    }

    private String id() {
      return personId + "0" + nextId++;
    }

    private Member add(String table, Map<String, String> values) {
      Map<String, String> all = new HashMap<>(values);
      all.put("PERSON_ID", personId);
      List<String> row = new ArrayList<>();
      for (String column : COLUMNS.get(table)) {
        row.add(all.get(column));
      }
      rows.add(new Row(table, row, rows.size() % 3, (long) rows.size()));
      return this;
    }
  }
}
