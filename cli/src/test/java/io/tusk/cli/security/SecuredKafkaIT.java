package io.tusk.cli.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tusk.cli.RowLoader;
import io.tusk.cli.TuskClient;
import io.tusk.cli.bench.MemberSummary;
import io.tusk.cli.bench.SyntheticTable;
import io.tusk.cli.local.Ports;
import io.tusk.cli.local.TuskServices;
import io.tusk.commit.CommitService;
import io.tusk.commit.CommitServiceConfig;
import io.tusk.common.config.KafkaSettings;
import io.tusk.common.security.ServiceAcls;
import io.tusk.common.security.ServiceAcls.Principal;
import io.tusk.common.topics.TopicNames;
import io.tusk.lineage.LineageService;
import io.tusk.lineage.LineageServiceConfig;
import io.tusk.localstack.EmbeddedKafka;
import io.tusk.localstack.LocalStack;
import io.tusk.processor.DatumProcessor;
import io.tusk.processor.DatumProcessorConfig;
import io.tusk.testfixtures.Await;
import io.tusk.testfixtures.LocalStackExtension;
import io.tusk.testfixtures.TestAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tusk against a secured broker: a KRaft broker of its own with a SASL_SSL (SCRAM-SHA-512) and an
 * mTLS listener, the standard authorizer and no access without an ACL. Each service runs as its own
 * principal with exactly the ACLs {@link ServiceAcls} (the README's table) lists, given through
 * {@code TUSK_KAFKA_*} settings: the commit and partition services, the datum processors and the
 * CLI's loader over SCRAM, the lineage service over mTLS (its certificate's CN is its principal).
 * The shared local stack provides only the schema registry.
 */
@Tag("integration")
@Timeout(value = 600, unit = TimeUnit.SECONDS)
@ExtendWith(LocalStackExtension.class)
class SecuredKafkaIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(180);

  /** Every repo and pipeline of this test starts with it, so services get prefixed topic ACLs. */
  private static final String NAMES_PREFIX = "sec-";

  private static final String SCRAM_MODULE =
      "org.apache.kafka.common.security.scram.ScramLoginModule";

  @TempDir static Path dir;

  private static TestPki pki;
  private static EmbeddedKafka kafka;
  private static Admin admin;

  @BeforeAll
  static void startSecuredBroker() throws Exception {
    pki = TestPki.create(dir);
    kafka =
        EmbeddedKafka.startSecured(
            dir.resolve("kafka"),
            new EmbeddedKafka.Security(
                pki.keyStore("broker"),
                pki.trustStore(),
                pki.password(),
                List.of("User:test-admin")));
    // The test's admin is a super user that authenticates with its certificate.
    Map<String, Object> adminProps = new HashMap<>(mtls(pki.keyStore("test-admin")));
    adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.mtlsBootstrapServers());
    admin = Admin.create(adminProps);
  }

  @AfterAll
  static void stopSecuredBroker() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldRunACommitThroughAPipelineToLineageWhenEachServiceHasOnlyItsAcls(LocalStack stack)
      throws Exception {
    String repo = NAMES_PREFIX + "claims";
    String pipeline = NAMES_PREFIX + "summary";
    Map<String, String> names =
        Map.of(ServiceAcls.NAMES_PREFIX, NAMES_PREFIX, ServiceAcls.REPO, repo);

    // Given a principal per service with exactly its ACLs: SCRAM users for the commit and
    // partition services, the processors and the CLI, a certificate for the lineage service
    Map<String, Map<String, String>> serviceEnv = new HashMap<>();
    for (Principal service :
        List.of(Principal.COMMIT_SERVICE, Principal.PARTITION_SERVICE, Principal.DATUM_PROCESSOR)) {
      serviceEnv.put(service.serviceName(), scramUser(service.serviceName()));
      grant(ServiceAcls.bindings(service, service.conventionalPrincipal(), names));
    }
    // (the commit service enforces the naming convention the prefixed ACLs rely on)
    serviceEnv.get(Principal.COMMIT_SERVICE.serviceName()).put("TUSK_NAMES_PREFIX", NAMES_PREFIX);
    Map<String, String> cliEnv = scramUser(Principal.CLI.serviceName());
    grant(ServiceAcls.bindings(Principal.CLI, Principal.CLI.conventionalPrincipal(), names));
    serviceEnv.put(
        Principal.LINEAGE_SERVICE.serviceName(), mtlsEnv(Principal.LINEAGE_SERVICE.serviceName()));
    grant(
        ServiceAcls.bindings(
            Principal.LINEAGE_SERVICE, Principal.LINEAGE_SERVICE.conventionalPrincipal(), names));

    // Kafka Streams purges what it consumed of its repartition topics (DELETE on their prefix)
    // every 30 s by default: soon enough to be seen here.
    for (Principal streamsApp : List.of(Principal.PARTITION_SERVICE, Principal.LINEAGE_SERVICE)) {
      serviceEnv
          .get(streamsApp.serviceName())
          .put("TUSK_KAFKA_REPARTITION_PURGE_INTERVAL_MS", "200");
    }

    Path home = Files.createTempDirectory(dir, "services-");
    KafkaSettings cli =
        KafkaSettings.of(kafka.bootstrapServers(), stack.registryUrl(), "secured-it-cli")
            .withClientSettingsFrom(cliEnv);
    String firstJob;
    try (TuskServices services = startServices(stack, home, serviceEnv)) {
      TuskClient client =
          new TuskClient(services.commitUrl(), services.lineageUrl(), services.auth().adminToken());

      // And a repo with a per-member summary pipeline
      createRepoAndPipeline(client, repo, pipeline);

      // When the CLI's principal loads three rows of two members and a commit is sealed
      load(
          cli,
          repo,
          "1,M1,claim,100001,2024-01-02,10.00",
          "2,M1,drug,100002,2024-01-03,5.50",
          "3,M2,claim,100003,2024-01-04,7.25");
      firstJob = sealAndAwaitJob(client, repo, pipeline, 2);

      // Then the lineage service, reading as its certificate's principal, traces M1's output
      // back to its two rows in the repo's updates topic
      assertProvenance(client, pipeline, "M1", firstJob, repo, 2);
    }

    // When every service starts again (existing topics, groups, offsets, transactional IDs) and
    // a row is added to M1
    try (TuskServices services = startServices(stack, home, serviceEnv)) {
      TuskClient client =
          new TuskClient(services.commitUrl(), services.lineageUrl(), services.auth().adminToken());
      load(cli, repo, "4,M1,procedure,100004,2024-02-01,2.00");

      // Then only M1 is processed, and its provenance names the new job and its three rows
      String secondJob = sealAndAwaitJob(client, repo, pipeline, 1);
      assertThat(secondJob).isNotEqualTo(firstJob);
      assertProvenance(client, pipeline, "M1", secondJob, repo, 3);

      // And the Streams applications could purge their repartition topics
      awaitRepartitionPurge();
    }
  }

  private static TuskServices startServices(
      LocalStack stack, Path home, Map<String, Map<String, String>> serviceEnv) {
    return TuskServices.start(
        kafka.bootstrapServers(),
        stack.registryUrl(),
        home,
        Ports.ephemeral(),
        1,
        true,
        serviceEnv);
  }

  private static void load(KafkaSettings cli, String repo, String... lines) {
    try (RowLoader loader = new RowLoader(cli, repo)) {
      for (String line : lines) {
        loader.send(SyntheticTable.TABLE, line.split(",")[1], line);
      }
      loader.flush();
    }
  }

  /** Seals a commit and waits for the pipeline's job; returns its ID. */
  private static String sealAndAwaitJob(
      TuskClient client, String repo, String pipeline, int processed) {
    String commitId = client.commit(repo).path("id").asText();
    JsonNode global =
        TuskClient.await(
            () -> client.global(commitId),
            g -> !"running".equals(g.path("state").asText()) && hasJob(g, pipeline),
            TIMEOUT,
            "the job of commit " + commitId);
    assertThat(global.path("state").asText()).as(global.toString()).isEqualTo("success");
    String jobId = jobOf(global, pipeline);
    JsonNode job = client.awaitJobEnd(jobId, TIMEOUT);
    assertThat(job.path("state").asText()).isEqualTo("SUCCESS");
    assertThat(job.path("processed").asInt()).as(job.toString()).isEqualTo(processed);
    return jobId;
  }

  private static void assertProvenance(
      TuskClient client, String pipeline, String member, String jobId, String repo, int rows) {
    JsonNode provenance =
        TuskClient.await(
            () -> client.provenance(pipeline, member, null, null, false, null),
            p -> jobId.equals(p.path("job").path("id").asText()),
            TIMEOUT,
            "the provenance of " + pipeline + "/" + member + " by job " + jobId);
    assertThat(provenance.path("inputCount").asInt()).isEqualTo(rows);
    assertThat(provenance.path("inputs").findValuesAsText("topic"))
        .hasSize(rows)
        .containsOnly(TopicNames.updates(repo));
  }

  /**
   * Waits until some repartition topic of the two Kafka Streams applications had records deleted
   * below what was consumed: Kafka Streams' purge, which needs DELETE on the topic.
   */
  private static void awaitRepartitionPurge() throws Exception {
    List<String> repartition =
        admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
            .filter(t -> t.startsWith("tusk-partition-") || t.startsWith("tusk-lineage-"))
            .filter(t -> t.endsWith("-repartition"))
            .toList();
    assertThat(repartition).isNotEmpty();
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    for (var entry :
        admin.describeTopics(repartition).allTopicNames().get(30, TimeUnit.SECONDS).entrySet()) {
      entry
          .getValue()
          .partitions()
          .forEach(
              p ->
                  earliest.put(
                      new TopicPartition(entry.getKey(), p.partition()), OffsetSpec.earliest()));
    }
    Await.until(
        "a purge of the repartition topics " + repartition,
        Duration.ofSeconds(60),
        () ->
            admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS).values().stream()
                .anyMatch(o -> o.offset() > 0));
  }

  @Test
  void shouldFailTheLineageServiceStartNamingTheAclWhenItsGroupIsNotAllowed(LocalStack stack)
      throws Exception {
    // Given a lineage-service principal with every ACL of the table but its group's
    String user = "lineage-without-group";
    Map<String, String> env = scramUser(user);
    grant(
        allBut(
            Principal.LINEAGE_SERVICE,
            "User:" + user,
            r -> r.resourceType() == ResourceType.GROUP));
    env.putAll(baseEnv(stack, "secured-it-lineage"));
    env.put("TUSK_STATE_DIR", Files.createTempDirectory(dir, "lineage-").toString());

    // When it starts, then the start fails within the deadline (not Kafka Streams' start
    // timeout) naming the group ACL the table lists
    long start = System.nanoTime();
    assertThatThrownBy(() -> LineageService.start(LineageServiceConfig.from(env)).close())
        .hasMessageContaining("Kafka denied lineage-service access to GROUP tusk-lineage")
        .hasMessageContaining("GROUP LITERAL 'tusk-lineage' (READ)")
        .hasMessageContaining("README 'Kafka ACLs'");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
  }

  @Test
  void shouldFailTheCommitServiceStartNamingTheAclWhenItsTransactionalIdIsNotAllowed(
      LocalStack stack) {
    // Given a commit-service principal with every ACL of the table but its transactional IDs
    String user = "commit-without-transactions";
    Map<String, String> env = scramUser(user);
    grant(
        allBut(
            Principal.COMMIT_SERVICE,
            "User:" + user,
            r -> r.resourceType() == ResourceType.TRANSACTIONAL_ID));
    env.putAll(baseEnv(stack, "secured-it-commit"));

    // When it starts, then the start fails within the deadline naming the transactional ID ACL
    long start = System.nanoTime();
    assertThatThrownBy(() -> CommitService.start(CommitServiceConfig.from(env)).close())
        .hasMessageContaining("Kafka denied commit-service access to TRANSACTIONAL_ID")
        .hasMessageContaining("TRANSACTIONAL_ID PREFIXED 'tusk-sealer-' (WRITE, DESCRIBE)");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
  }

  @Test
  void shouldFailADatumProcessorStartNamingTheAclWhenItsTransactionalIdIsNotAllowed(
      LocalStack stack) throws Exception {
    // Given a pipeline, made through a commit service with all of its ACLs
    String repo = NAMES_PREFIX + "processor-repo";
    String pipeline = NAMES_PREFIX + "processor";
    createThroughACommitService(stack, "commit-for-processor-test", repo, pipeline);

    // And a datum-processor principal with every ACL of the table but its transactional IDs
    String user = "processor-without-transactions";
    Map<String, String> env = scramUser(user);
    grant(
        allBut(
            Principal.DATUM_PROCESSOR,
            "User:" + user,
            r -> r.resourceType() == ResourceType.TRANSACTIONAL_ID));
    env.putAll(baseEnv(stack, "secured-it-processor"));
    env.put(DatumProcessorConfig.PIPELINE.name(), pipeline);

    // When it starts, then the start fails within the deadline, not once its workers are running,
    // naming the transactional ID ACL
    long start = System.nanoTime();
    assertThatThrownBy(() -> DatumProcessor.start(DatumProcessorConfig.from(env)).close())
        .hasMessageContaining("Kafka denied datum-processor access to TRANSACTIONAL_ID")
        .hasMessageContaining("TRANSACTIONAL_ID PREFIXED 'tusk-processor-' (WRITE, DESCRIBE)");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(60));
  }

  @Test
  void shouldFailARunningDatumProcessorWhenKafkaDeniesItsGroupAfterStart(LocalStack stack)
      throws Exception {
    // Given a pipeline, and a processor running with every ACL of the table
    String repo = NAMES_PREFIX + "revoked-repo";
    String pipeline = NAMES_PREFIX + "revoked";
    createThroughACommitService(stack, "commit-for-revoked-test", repo, pipeline);
    String user = "processor-revoked";
    Map<String, String> env = scramUser(user);
    List<AclBinding> all = allBut(Principal.DATUM_PROCESSOR, "User:" + user, r -> false);
    grant(all);
    env.putAll(baseEnv(stack, "secured-it-revoked"));
    env.put(DatumProcessorConfig.PIPELINE.name(), pipeline);
    try (DatumProcessor processor = DatumProcessor.start(DatumProcessorConfig.from(env))) {
      assertThat(processor.lifecycle().isWorking()).isTrue();

      // When an operator revokes its group ACLs
      List<AclBindingFilter> groups =
          all.stream()
              .filter(b -> b.pattern().resourceType() == ResourceType.GROUP)
              .map(AclBinding::toFilter)
              .toList();
      assertThat(groups).isNotEmpty();
      admin.deleteAcls(groups).all().get(30, TimeUnit.SECONDS);

      // Then the processor fails (its main would exit non-zero) naming the group, within a minute
      String reason =
          processor.lifecycle().failure().toCompletableFuture().get(90, TimeUnit.SECONDS);
      assertThat(reason).contains("GROUP");
    }
  }

  /**
   * Creates {@code repo} and {@code pipeline} through a commit service of its own, running as SCRAM
   * user {@code commitUser} with all of the commit service's ACLs, then stops it.
   */
  private static void createThroughACommitService(
      LocalStack stack, String commitUser, String repo, String pipeline) throws Exception {
    Map<String, String> commitEnv = scramUser(commitUser);
    grant(
        ServiceAcls.bindings(
            Principal.COMMIT_SERVICE,
            "User:" + commitUser,
            Map.of(ServiceAcls.NAMES_PREFIX, NAMES_PREFIX)));
    commitEnv.putAll(baseEnv(stack, "secured-it-" + commitUser));
    try (CommitService commit = CommitService.start(CommitServiceConfig.from(commitEnv))) {
      createRepoAndPipeline(
          new TuskClient(
              "http://127.0.0.1:" + commit.port(),
              "http://127.0.0.1:1",
              TestAuth.shared().adminToken()),
          repo,
          pipeline);
    }
  }

  /** The bindings of every rule of {@code service} except those {@code left} matches. */
  private static List<AclBinding> allBut(
      Principal service, String kafkaPrincipal, Predicate<ServiceAcls.Rule> left) {
    List<ServiceAcls.Rule> kept =
        ServiceAcls.rules(service).stream().filter(left.negate()).toList();
    List<AclBinding> bindings = new ArrayList<>();
    for (AclBinding binding :
        ServiceAcls.bindings(
            service, kafkaPrincipal, Map.of(ServiceAcls.NAMES_PREFIX, NAMES_PREFIX))) {
      boolean keep =
          kept.stream()
              .anyMatch(
                  r ->
                      r.resourceType() == binding.pattern().resourceType()
                          && r.patternType() == binding.pattern().patternType()
                          && r.name()
                              .replace(ServiceAcls.NAMES_PREFIX, NAMES_PREFIX)
                              .equals(binding.pattern().name()));
      if (keep) {
        bindings.add(binding);
      }
    }
    assertThat(bindings).isNotEmpty();
    return bindings;
  }

  private static Map<String, String> baseEnv(LocalStack stack, String instance) {
    Map<String, String> env = new HashMap<>();
    env.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.bootstrapServers());
    env.put(KafkaSettings.REGISTRY_URL.name(), stack.registryUrl());
    env.put(KafkaSettings.SYSTEM_PARTITIONS.name(), "3");
    env.put(KafkaSettings.INSTANCE_ID.name(), instance);
    env.put("TUSK_HTTP_HOST", "127.0.0.1");
    env.put("TUSK_HTTP_PORT", "0");
    env.putAll(TestAuth.shared().env());
    // Every repo on this broker, also those of commit services started alone, has the member
    // partitions of the stack's partition service (its Streams state is sized by the first repo).
    env.put("TUSK_MEMBER_PARTITIONS", Integer.toString(TuskServices.MEMBER_PARTITIONS));
    return env;
  }

  private static void grant(List<AclBinding> bindings) {
    try {
      admin.createAcls(bindings).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create ACLs " + bindings, e);
    }
  }

  /** A new SCRAM user, and the TUSK_KAFKA_* settings a service logs in with as that user. */
  private static Map<String, String> scramUser(String user) {
    byte[] secret = new byte[16];
    new SecureRandom().nextBytes(secret);
    String password = HexFormat.of().formatHex(secret);
    try {
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      user, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), password)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create SCRAM user " + user, e);
    }
    Map<String, String> env = trustEnv();
    env.put("TUSK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
    env.put("TUSK_KAFKA_SASL_MECHANISM", EmbeddedKafka.SCRAM_MECHANISM);
    env.put(
        "TUSK_KAFKA_SASL_JAAS_CONFIG",
        SCRAM_MODULE + " required username=\"" + user + "\" password=\"" + password + "\";");
    return env;
  }

  /**
   * TUSK_KAFKA_* settings of a client that authenticates with a new certificate {@code
   * CN=<commonName>} on the mTLS listener (its bootstrap servers included).
   */
  private static Map<String, String> mtlsEnv(String commonName) {
    Map<String, String> env = trustEnv();
    env.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), kafka.mtlsBootstrapServers());
    env.put("TUSK_KAFKA_SECURITY_PROTOCOL", "SSL");
    env.put("TUSK_KAFKA_SSL_KEYSTORE_TYPE", "PKCS12");
    env.put("TUSK_KAFKA_SSL_KEYSTORE_LOCATION", pki.keyStore(commonName).toString());
    env.put("TUSK_KAFKA_SSL_KEYSTORE_PASSWORD", pki.password());
    env.put("TUSK_KAFKA_SSL_KEY_PASSWORD", pki.password());
    return env;
  }

  private static Map<String, String> trustEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TUSK_KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12");
    env.put("TUSK_KAFKA_SSL_TRUSTSTORE_LOCATION", pki.trustStore().toString());
    env.put("TUSK_KAFKA_SSL_TRUSTSTORE_PASSWORD", pki.password());
    return env;
  }

  /** Admin client settings of a certificate's principal. */
  private static Map<String, Object> mtls(Path keyStore) {
    Map<String, Object> props = new HashMap<>();
    props.put(AdminClientConfig.SECURITY_PROTOCOL_CONFIG, "SSL");
    props.put("ssl.truststore.type", "PKCS12");
    props.put("ssl.truststore.location", pki.trustStore().toString());
    props.put("ssl.truststore.password", pki.password());
    props.put("ssl.keystore.type", "PKCS12");
    props.put("ssl.keystore.location", keyStore.toString());
    props.put("ssl.keystore.password", pki.password());
    props.put("ssl.key.password", pki.password());
    return props;
  }

  private static void createRepoAndPipeline(TuskClient client, String repo, String pipeline) {
    client.createRepo(SyntheticTable.repoSpec(repo, 2));
    ObjectNode summary = TuskClient.object().put("name", pipeline).put("parallelism", 1);
    summary.putObject("input").put("repo", repo);
    summary.putObject("transform").put("java", new MemberSummary().name());
    client.createPipeline(summary);
  }

  private static boolean hasJob(JsonNode global, String pipeline) {
    return global.path("jobs").findValuesAsText("pipeline").contains(pipeline);
  }

  private static String jobOf(JsonNode global, String pipeline) {
    for (JsonNode job : global.path("jobs")) {
      if (pipeline.equals(job.path("pipeline").asText())) {
        return job.path("id").asText();
      }
    }
    throw new AssertionError("no job of " + pipeline + " in " + global);
  }
}
