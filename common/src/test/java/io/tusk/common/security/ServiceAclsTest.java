package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tusk.common.security.ServiceAcls.Principal;
import io.tusk.common.security.ServiceAcls.Rule;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ServiceAclsTest {
  private static final Map<String, String> ACME =
      Map.of(ServiceAcls.NAMES_PREFIX, "acme-", ServiceAcls.REPO, "acme-claims");

  @Test
  void shouldGrantOneAllowBindingPerOperationOfEveryRuleWithPlaceholdersResolved() {
    // When the lineage service's bindings are made for its principal and the acme- convention
    List<AclBinding> bindings =
        ServiceAcls.bindings(
            Principal.LINEAGE_SERVICE, "User:lineage", Map.of(ServiceAcls.NAMES_PREFIX, "acme-"));

    // Then every operation of its required rules is one ALLOW binding of that principal, from any
    // host, and the optional OpenLineage topic (no value given) is left out
    long operations =
        ServiceAcls.rules(Principal.LINEAGE_SERVICE).stream()
            .filter(r -> !r.optional())
            .mapToLong(r -> r.operations().size())
            .sum();
    assertThat(bindings).hasSize((int) operations);
    assertThat(bindings)
        .allSatisfy(
            b -> {
              assertThat(b.entry().principal()).isEqualTo("User:lineage");
              assertThat(b.entry().host()).isEqualTo("*");
              assertThat(b.entry().permissionType()).isEqualTo(AclPermissionType.ALLOW);
            });
    assertThat(bindings)
        .extracting(AclBinding::pattern)
        .contains(
            new ResourcePattern(ResourceType.TOPIC, "acme-", PatternType.PREFIXED),
            new ResourcePattern(ResourceType.GROUP, "tusk-lineage", PatternType.LITERAL))
        .noneMatch(p -> p.name().contains("<"));
  }

  @Test
  void shouldMakeAPrefixOfStarTheLiteralWildcardForDeploymentsWithoutANamingConvention() {
    // When the names prefix is given as *
    List<AclBinding> bindings =
        ServiceAcls.bindings(
            Principal.DATUM_PROCESSOR,
            "User:p",
            Map.of(ServiceAcls.NAMES_PREFIX, ResourcePattern.WILDCARD_RESOURCE));

    // Then the data topics are granted as the LITERAL wildcard, not a prefix "*"
    assertThat(bindings)
        .extracting(AclBinding::pattern)
        .contains(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL))
        .doesNotContain(new ResourcePattern(ResourceType.TOPIC, "*", PatternType.PREFIXED));
  }

  @Test
  void shouldRefuseBindingsWhenARequiredPlaceholderHasNoValue() {
    assertThatThrownBy(() -> ServiceAcls.bindings(Principal.CLI, "User:cli", Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("<repo>.updates");
  }

  @ParameterizedTest
  @EnumSource(Principal.class)
  void shouldGiveEveryPrincipalRulesAndNoClusterAcl(Principal principal) {
    assertThat(ServiceAcls.rules(principal)).isNotEmpty();
    assertThat(ServiceAcls.rules(principal))
        .extracting(Rule::resourceType)
        .doesNotContain(ResourceType.CLUSTER);
    assertThat(ServiceAcls.bindings(principal, "User:x", ACME)).isNotEmpty();
  }

  @Test
  void shouldPointADeniedTopicAtTheMostSpecificRuleCoveringIt() {
    // A system topic: the tusk. prefix
    assertThat(ServiceAcls.pointedAt(Principal.PARTITION_SERVICE, ResourceType.TOPIC, "tusk.jobs"))
        .extracting(Rule::name)
        .containsExactly("tusk.");
    // A Kafka Streams internal topic: its application's prefix
    assertThat(
            ServiceAcls.pointedAt(
                Principal.PARTITION_SERVICE,
                ResourceType.TOPIC,
                "tusk-partition-member-versions-store-changelog"))
        .extracting(Rule::name)
        .containsExactly("tusk-partition-");
    // A repo topic: the deployment's names prefix, whatever it is
    assertThat(
            ServiceAcls.pointedAt(Principal.COMMIT_SERVICE, ResourceType.TOPIC, "claims.by-member"))
        .extracting(Rule::name)
        .containsExactly(ServiceAcls.NAMES_PREFIX);
    // A group
    assertThat(
            ServiceAcls.pointedAt(
                Principal.DATUM_PROCESSOR, ResourceType.GROUP, "tusk-processor-p"))
        .extracting(Rule::name)
        .containsExactly("tusk-processor-");
    // A transactional ID Kafka did not name: every such rule of the service
    assertThat(
            ServiceAcls.pointedAt(Principal.PARTITION_SERVICE, ResourceType.TRANSACTIONAL_ID, null))
        .extracting(Rule::name)
        .containsExactlyInAnyOrder("tusk-rekeyer-", "tusk-partition-");
  }

  @Test
  void shouldRenderEachRuleAsOneKafkaAclsCommand() {
    List<String> commands = ServiceAcls.kafkaAclsCommands();
    assertThat(commands).hasSize(ServiceAcls.rules().size());
    assertThat(commands)
        .contains(
            "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config admin.properties"
                + " --add --allow-principal User:commit-service --operation Write --operation"
                + " Describe --transactional-id 'tusk-sealer-' --resource-pattern-type prefixed",
            "kafka-acls.sh --bootstrap-server \"$BOOTSTRAP\" --command-config admin.properties"
                + " --add --allow-principal User:lineage-service --operation Read --group"
                + " 'tusk-lineage'");
  }

  @Test
  void shouldRenderOneTableRowPerRule() {
    List<String> rows = ServiceAcls.markdownTable().lines().toList();
    assertThat(rows).hasSize(ServiceAcls.rules().size() + 2);
    assertThat(rows)
        .contains(
            "| partition-service | GROUP | LITERAL | `tusk-rekeyer` | READ | the rekeyer's consumer"
                + " group |");
  }

  @Test
  void shouldDescribeARuleAsTheErrorsNameIt() {
    Rule rule =
        ServiceAcls.pointedAt(Principal.LINEAGE_SERVICE, ResourceType.GROUP, "tusk-lineage").get(0);
    assertThat(rule.describe()).isEqualTo("GROUP LITERAL 'tusk-lineage' (READ)");
    assertThat(rule.operations()).containsExactly(AclOperation.READ);
  }
}
