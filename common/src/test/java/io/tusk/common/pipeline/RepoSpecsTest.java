package io.tusk.common.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepoSpecsTest {
  private static final String VALID =
      """
      {"name": "claims", "format": "json",
       "tables": [{"name": "CLAIM", "columns": ["ID", "MEMBER", "OP", "DATE"],
                   "memberKey": "MEMBER", "rowKey": ["ID"], "opColumn": "OP",
                   "columnTypes": {"DATE": "Date"}}],
       "trigger": {"everyRows": 10, "cron": "*/5 * * * *"}}
      """;

  @Test
  void shouldBuildTheRepoWhenTheDocumentIsValid() {
    // Given a repo document read into plain maps, as a JSON or YAML reader gives it
    Map<String, Object> document = PipelineSpecs.readDocument(VALID);

    // When it is parsed with a deployment-wide member partition count
    RepoSpec spec = RepoSpecs.fromDocument(document, 42, 6);

    // Then the given fields are kept and the absent ones take their defaults
    assertThat(spec.getName()).isEqualTo("claims");
    assertThat(spec.getFormat()).isEqualTo(RowFormat.JSON);
    assertThat(spec.getDefaultTable()).isEqualTo("CLAIM");
    assertThat(spec.getTables().get(0).getColumnTypes()).isEqualTo(Map.of("DATE", "date"));
    assertThat(spec.getUpdatePartitions()).isEqualTo(RepoSpecs.DEFAULT_PARTITIONS);
    assertThat(spec.getMemberPartitions()).isEqualTo(6);
    assertThat(spec.getHistoryRetention()).isEqualTo(RepoSpecs.DEFAULT_HISTORY_RETENTION);
    assertThat(spec.getTrigger().getEveryRows()).isEqualTo(10L);
    assertThat(spec.getTrigger().getCron()).isEqualTo("*/5 * * * *");
    assertThat(spec.getCreatedAt()).isEqualTo(42);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "\"name\": \"claims\"|\"name\": \"Claims\"|name",
        "\"memberKey\": \"MEMBER\"|\"memberKey\": \"NOPE\"|tables[0].memberKey",
        "\"rowKey\": [\"ID\"]|\"rowKey\": [\"ID\", \"X\"]|tables[0].rowKey[1]",
        "\"DATE\": \"Date\"|\"DATE\": \"money\"|tables[0].columnTypes.DATE",
        "\"everyRows\": 10|\"everyRows\": 0|trigger.everyRows",
        "\"cron\": \"*/5 * * * *\"|\"cron\": \"0 0 31 2 *\"|trigger.cron",
        "\"format\": \"json\"|\"formats\": \"json\"|formats",
      })
  void shouldNameTheFieldWhenOneIsInvalid(String valid, String invalid, String field) {
    // Given the valid document with one field changed
    String text = VALID.replace(valid, invalid);
    assertThat(text).isNotEqualTo(VALID);

    // When it is parsed / Then the error names that field's path
    assertThatThrownBy(() -> RepoSpecs.fromDocument(PipelineSpecs.readDocument(text), 1, 0))
        .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.field()).isEqualTo(field))
        .hasMessageStartingWith(field + " ");
  }

  @Test
  void shouldReadRawRetentionAsADurationOrMillisecondsAndKeepForeverWithout() {
    // Given documents with rawRetention as text, as milliseconds, and without it
    Map<String, Object> days =
        PipelineSpecs.readDocument(
            VALID.replace("\"format\"", "\"rawRetention\": \"30d\", \"format\""));
    Map<String, Object> millis =
        PipelineSpecs.readDocument(
            VALID.replace("\"format\"", "\"rawRetention\": 5000, \"format\""));

    // Then each is its milliseconds, and none is forever (null)
    assertThat(RepoSpecs.fromDocument(days, 1, 6).getRawRetentionMs()).isEqualTo(30L * 86_400_000);
    assertThat(RepoSpecs.fromDocument(millis, 1, 6).getRawRetentionMs()).isEqualTo(5000L);
    assertThat(RepoSpecs.fromDocument(PipelineSpecs.readDocument(VALID), 1, 6).getRawRetentionMs())
        .isNull();
    // And a bad value is refused naming the field
    for (String bad : new String[] {"\"a month\"", "-1", "0", "1.5", "true"}) {
      Map<String, Object> document =
          PipelineSpecs.readDocument(
              VALID.replace("\"format\"", "\"rawRetention\": " + bad + ", \"format\""));
      assertThatThrownBy(() -> RepoSpecs.fromDocument(document, 1, 6))
          .as(bad)
          .isInstanceOf(SpecException.class)
          .hasMessageContaining("rawRetention");
    }
  }

  @Test
  void shouldRefuseAnotherMemberPartitionCountWhenTheDeploymentSetsOne() {
    // Given a document that chooses its own member partition count
    Map<String, Object> document =
        PipelineSpecs.readDocument(
            VALID.replace("\"format\"", "\"memberPartitions\": 3, \"format\""));

    // When the deployment fixes 6 / Then the field is refused, the rule named
    assertThatThrownBy(() -> RepoSpecs.fromDocument(document, 1, 6))
        .isInstanceOf(SpecException.class)
        .hasMessageContaining("memberPartitions is 6 for every repo of this deployment");
    // And without a deployment-wide count the repo's choice stands
    assertThat(RepoSpecs.fromDocument(document, 1, 0).getMemberPartitions()).isEqualTo(3);
  }

  @Test
  void shouldAcceptFormatDebeziumOnlyWhenEveryTableHasItsPrimaryKeyAsRowKey() {
    // Given a debezium repo whose table names its row key, and one whose table does not
    String keyed = VALID.replace("\"json\"", "\"Debezium\"");
    String keyless = keyed.replace("\"rowKey\": [\"ID\"], \"opColumn\": \"OP\",", "");

    // Then the first is a DEBEZIUM repo and the second is refused, naming the row key
    assertThat(RepoSpecs.fromDocument(PipelineSpecs.readDocument(keyed), 1, 6).getFormat())
        .isEqualTo(RowFormat.DEBEZIUM);
    assertThatThrownBy(() -> RepoSpecs.fromDocument(PipelineSpecs.readDocument(keyless), 1, 6))
        .isInstanceOfSatisfying(
            SpecException.class, e -> assertThat(e.field()).isEqualTo("tables[0].rowKey"));
  }
}
