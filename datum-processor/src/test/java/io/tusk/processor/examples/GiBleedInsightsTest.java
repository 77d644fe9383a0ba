package io.tusk.processor.examples;

import static io.tusk.processor.OmopFixtures.ATRIAL_FIBRILLATION;
import static io.tusk.processor.OmopFixtures.CELECOXIB;
import static io.tusk.processor.OmopFixtures.GI_BLEED;
import static io.tusk.processor.OmopFixtures.IBUPROFEN;
import static io.tusk.processor.OmopFixtures.OSTEOARTHRITIS;
import static io.tusk.processor.OmopFixtures.PEPTIC_ULCER;
import static io.tusk.processor.OmopFixtures.VIRAL_SINUSITIS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tusk.common.member.RepoLayout;
import io.tusk.common.transform.MemberDatumInput;
import io.tusk.common.transform.Transform;
import io.tusk.common.transform.TransformOutput;
import io.tusk.common.transform.Transforms;
import io.tusk.processor.OmopFixtures;
import io.tusk.processor.OmopFixtures.Member;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.Row;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GiBleedInsightsTest {
  private static final RepoSpec REPO = OmopFixtures.repo("omop");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final GiBleedInsights transform = new GiBleedInsights();

  private static LocalDate day(String iso) {
    return LocalDate.parse(iso);
  }

  private TransformOutput run(MemberObject member) throws Exception {
    return transform.apply(input(member));
  }

  private JsonNode json(TransformOutput output) throws Exception {
    return JSON.readTree(output.data());
  }

  @Test
  void shouldReportBleedAfterExposureWhenAnNsaidEraStartedBeforeTheFirstBleed() throws Exception {
    // Given a woman born 1940 on celecoxib twice and ibuprofen once, then a GI bleed in 2005
    Member member =
        OmopFixtures.member("123")
            .person("8532", 1940, 5, 1)
            .drugEra(CELECOXIB, day("2001-02-03"), day("2001-03-03"))
            .drugEra(CELECOXIB, day("2003-01-01"), day("2003-02-01"))
            .drugEra(IBUPROFEN, day("2002-06-01"), day("2002-06-20"))
            .conditionEra(GI_BLEED, day("2005-06-07"), day("2005-06-10"))
            .conditionEra(OSTEOARTHRITIS, day("1999-01-01"), day("2004-01-01"))
            .conditionEra(PEPTIC_ULCER, day("2000-01-01"), day("2000-06-01"))
            .conditionEra(VIRAL_SINUSITIS, day("2000-01-01"), day("2000-01-10"))
            .visit(day("2006-01-01"), day("2006-01-02"));

    // When the transform runs
    TransformOutput output = run(member.object(REPO, "commit-1"));

    // Then the bleed counts as after exposure, 1585 days after the first celecoxib era; the age
    // band is taken at the latest event (2006: age 65), not today
    assertThat(output.contentType()).isEqualTo("application/json");
    assertThat(new String(output.data(), StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"member\":\"123\",\"sex\":\"F\",\"ageBand\":\"60-69\",\"nsaidExposures\":["
                + "{\"drug\":\"celecoxib\",\"conceptId\":\"1118084\",\"firstStart\":\"2001-02-03\",\"eras\":2},"
                + "{\"drug\":\"ibuprofen\",\"conceptId\":\"1177480\",\"firstStart\":\"2002-06-01\",\"eras\":1}],"
                + "\"giBleed\":{\"first\":\"2005-06-07\",\"afterNsaidExposure\":true,\"daysAfterFirstExposure\":1585},"
                + "\"chronicConditions\":[\"osteoarthritis\",\"peptic-ulcer\"],"
                + "\"cohortKey\":\"F|60-69|osteoarthritis+peptic-ulcer\"}");
  }

  @Test
  void shouldReportBleedNotAfterExposureWhenTheBleedCameFirst() throws Exception {
    // Given a man whose GI bleed predates his only NSAID era
    Member member =
        OmopFixtures.member("7")
            .person("8507", 1950, 4, 12)
            .conditionEra(GI_BLEED, day("1999-03-01"), day("1999-03-05"))
            .drugEra(IBUPROFEN, day("2001-01-01"), day("2001-01-30"));

    // When the transform runs
    JsonNode out = json(run(member.object(REPO, "c")));

    // Then the bleed is not after exposure and has no day count
    assertThat(out.get("sex").asText()).isEqualTo("M");
    assertThat(out.get("ageBand").asText()).isEqualTo("50-59");
    assertThat(out.get("giBleed").get("first").asText()).isEqualTo("1999-03-01");
    assertThat(out.get("giBleed").get("afterNsaidExposure").asBoolean()).isFalse();
    assertThat(out.get("giBleed").get("daysAfterFirstExposure").isNull()).isTrue();
    assertThat(out.get("chronicConditions")).isEmpty();
    assertThat(out.get("cohortKey").asText()).isEqualTo("M|50-59|none");
  }

  @Test
  void shouldReportUnknownSexAndAgeBandWhenThePersonRowIsMissing() throws Exception {
    // Given a member with events but no PERSON row
    Member member =
        OmopFixtures.member("99")
            .drugEra(CELECOXIB, day("2010-01-01"), day("2010-02-01"))
            .conditionEra(ATRIAL_FIBRILLATION, day("2011-01-01"), day("2012-01-01"));

    // When the transform runs
    JsonNode out = json(run(member.object(REPO, "c")));

    // Then it succeeds with unknown sex and age band and no bleed
    assertThat(out.get("member").asText()).isEqualTo("99");
    assertThat(out.get("sex").asText()).isEqualTo("unknown");
    assertThat(out.get("ageBand").asText()).isEqualTo("unknown");
    assertThat(out.get("giBleed").isNull()).isTrue();
    assertThat(out.get("cohortKey").asText()).isEqualTo("unknown|unknown|atrial-fibrillation");
  }

  @Test
  void shouldGiveByteIdenticalOutputWhenRunAgainOrOnPermutedRows() throws Exception {
    // Given plausible members and their rows in canonical order
    Random random = new Random(42);
    for (int i = 0; i < 20; i++) {
      Member member = OmopFixtures.random(random, Integer.toString(1000 + i));
      MemberObject canonical = member.object(REPO, "c");
      byte[] expected = run(canonical).data();

      // When the transform runs again, with a fresh instance, and on shuffled rows
      byte[] again = new GiBleedInsights().apply(input(canonical)).data();
      List<Row> shuffled = new ArrayList<>(canonical.getRows());
      Collections.shuffle(shuffled, random);
      byte[] permuted = run(member.objectInOrder(REPO, "c", shuffled)).data();
      Collections.reverse(shuffled);
      byte[] reversed = run(member.objectInOrder(REPO, "c", shuffled)).data();

      // Then every output is byte-identical
      assertThat(again).isEqualTo(expected);
      assertThat(permuted).isEqualTo(expected);
      assertThat(reversed).isEqualTo(expected);
    }
  }

  @Test
  void shouldFailWithoutQuotingTheValueWhenADateIsMalformed() {
    // Given a drug era whose start date is not a date
    Member member =
        OmopFixtures.member("5").drugEra(CELECOXIB, day("2010-01-01"), day("2010-02-01"));
    MemberObject object = member.object(REPO, "c");
    List<String> values = new ArrayList<>(object.getRows().get(0).getValues());
    values.set(3, "03/01/2010");
    object.getRows().set(0, new Row("DRUG_ERA", values, 0, 0L));

    // When / Then the transform fails, naming the column but not the value
    assertThatThrownBy(() -> run(object))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("DRUG_ERA.DRUG_ERA_START_DATE is not an ISO date");
  }

  @Test
  void shouldBeFoundByItsRegisteredNameWhenASpecNamesIt() {
    // Given a spec naming the transform by its ServiceLoader name
    TransformSpec spec =
        TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("gibleed-insights").build();

    // When it is loaded
    Transform loaded = Transforms.load(spec, getClass().getClassLoader());

    // Then it is this transform
    assertThat(loaded).isInstanceOf(GiBleedInsights.class);
  }

  private static MemberDatumInput input(MemberObject member) {
    return new MemberDatumInput(
        OmopFixtures.datum("gibleed", "job-1", "commit-1", member), new RepoLayout(REPO));
  }
}
