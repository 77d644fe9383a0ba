package io.tusk.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tusk.common.security.ServiceAcls;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.resource.PatternType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Renders deploy/helm/tusk with helm-java (the Helm library itself) and parses every manifest with
 * the fabric8 Kubernetes model, with the default values and with ci/keda-strimzi-values.yaml (KEDA,
 * Strimzi, two pipelines). Checks what a change to the chart or to the services could break: the
 * workloads, their health probes, that every variable is one its service reads, that credentials
 * come from Secrets, one processor Deployment and ScaledObject per pipeline, PDB selectors, state
 * volumes, and that the KafkaUsers' ACLs are README's (ServiceAcls).
 */
class HelmChartTest {
  private static final Path ROOT = Paths.get(System.getProperty("tusk.root", ".."));
  private static final Path CHART = ROOT.resolve("deploy/helm/tusk");
  private static final Path FULL_VALUES = CHART.resolve("ci/keda-strimzi-values.yaml");
  private static final Map<String, Integer> PORTS =
      Map.of(
          "commit-service", 8080,
          "lineage-service", 8082,
          "partition-service", 8083,
          "datum-processor", 8084);

  /** The services running Kafka Streams with RocksDB stores. */
  private static final Set<String> STREAMS_SERVICES =
      Set.of("partition-service", "lineage-service");

  private static List<HasMetadata> render(Path valuesFile) {
    var template = new Helm(CHART).template().withName("tusk").withNamespace("tusk-test");
    if (valuesFile != null) {
      template = template.withValuesFile(valuesFile);
    }
    List<HasMetadata> resources = new ArrayList<>();
    for (String document : template.call().split("(?m)^---\\s*$")) {
      if (document.lines().anyMatch(l -> !l.isBlank() && !l.startsWith("#"))) {
        resources.add(Serialization.unmarshal(document, HasMetadata.class));
      }
    }
    return resources;
  }

  private static <T extends HasMetadata> List<T> ofType(List<HasMetadata> all, Class<T> type) {
    return all.stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static List<GenericKubernetesResource> ofKind(List<HasMetadata> all, String kind) {
    return ofType(all, GenericKubernetesResource.class).stream()
        .filter(r -> r.getKind().equals(kind))
        .toList();
  }

  /** Each workload's pod template, by the service it runs (processors: datum-processor). */
  private static Map<HasMetadata, PodTemplateSpec> workloads(List<HasMetadata> all) {
    Map<HasMetadata, PodTemplateSpec> pods = new java.util.LinkedHashMap<>();
    ofType(all, Deployment.class).forEach(d -> pods.put(d, d.getSpec().getTemplate()));
    ofType(all, StatefulSet.class).forEach(s -> pods.put(s, s.getSpec().getTemplate()));
    return pods;
  }

  private static String service(PodTemplateSpec pod) {
    String component = pod.getMetadata().getLabels().get("app.kubernetes.io/component");
    return component.startsWith("processor-") ? "datum-processor" : component;
  }

  private static Map<String, EnvVar> env(Container container) {
    return container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  @Test
  void shouldRenderTheServicesWithDefaultValues() {
    List<HasMetadata> all = render(null);
    assertThat(ofType(all, Deployment.class))
        .extracting(d -> d.getMetadata().getName())
        .containsExactly("tusk-tusk-commit-service");
    assertThat(ofType(all, StatefulSet.class))
        .extracting(s -> s.getMetadata().getName())
        .containsExactlyInAnyOrder("tusk-tusk-partition-service", "tusk-tusk-lineage-service");
    assertThat(ofType(all, Service.class)).hasSize(3);
    assertThat(ofType(all, PodDisruptionBudget.class)).hasSize(3);
    assertThat(ofType(all, Secret.class)).hasSize(1);
    assertThat(ofType(all, GenericKubernetesResource.class)).as("no KEDA or Strimzi").isEmpty();
    checkWorkloads(all);
  }

  @Test
  void shouldRenderOneProcessorDeploymentAndScaledObjectPerPipeline() throws IOException {
    List<HasMetadata> all = render(FULL_VALUES);
    Map<String, Integer> partitions = Map.of("acme-insights", 4, "acme-scores", 12);
    List<Deployment> processors =
        ofType(all, Deployment.class).stream()
            .filter(d -> d.getMetadata().getLabels().containsKey("tusk.io/pipeline"))
            .toList();
    assertThat(processors)
        .extracting(d -> d.getMetadata().getLabels().get("tusk.io/pipeline"))
        .containsExactlyInAnyOrderElementsOf(partitions.keySet());
    for (Deployment processor : processors) {
      String pipeline = processor.getMetadata().getLabels().get("tusk.io/pipeline");
      Container container = processor.getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(env(container).get("TUSK_PIPELINE").getValue()).isEqualTo(pipeline);
      assertThat(processor.getSpec().getReplicas()).as("KEDA owns the replica count").isNull();
    }
    Container scores =
        processors.stream()
            .filter(d -> d.getMetadata().getName().endsWith("acme-scores"))
            .findFirst()
            .orElseThrow()
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    assertThat(scores.getImage()).isEqualTo("registry.example/acme/scores-processor:1.2");
    assertThat(env(scores).get("TUSK_PROCESSOR_THREADS").getValue()).isEqualTo("4");
    assertThat(scores.getResources().getLimits().get("memory").toString()).isEqualTo("4Gi");

    List<GenericKubernetesResource> scaled = ofKind(all, "ScaledObject");
    assertThat(scaled).hasSize(2);
    for (GenericKubernetesResource object : scaled) {
      assertThat(object.getApiVersion()).isEqualTo("keda.sh/v1alpha1");
      String target = object.get("spec", "scaleTargetRef", "name");
      Deployment processor =
          processors.stream()
              .filter(d -> d.getMetadata().getName().equals(target))
              .findFirst()
              .orElseThrow(() -> new AssertionError("ScaledObject targets " + target));
      String pipeline = processor.getMetadata().getLabels().get("tusk.io/pipeline");
      assertThat(((Number) object.get("spec", "maxReplicaCount")).intValue())
          .isEqualTo(partitions.get(pipeline));
      List<Map<String, Object>> triggers = object.get("spec", "triggers");
      assertThat(triggers).hasSize(1);
      assertThat(triggers.get(0).get("type")).isEqualTo("kafka");
      @SuppressWarnings("unchecked")
      Map<String, Object> metadata = (Map<String, Object>) triggers.get(0).get("metadata");
      assertThat(metadata)
          .containsEntry("topic", pipeline + ".datums")
          .containsEntry("consumerGroup", "tusk-processor-" + pipeline);
    }
    assertThat(ofType(all, PodDisruptionBudget.class)).hasSize(5);
    String internalSecret = "not-a-real-secret-0123456789"; // ci/keda-strimzi-values.yaml
    assertThat(ofType(all, Secret.class).get(0).getStringData())
        .containsEntry("internal-secret", internalSecret);
    for (HasMetadata resource : all) {
      if (!(resource instanceof Secret)) {
        assertThat(Serialization.asYaml(resource))
            .as("%s holds no credential", resource.getMetadata().getName())
            .doesNotContain(internalSecret);
      }
    }
    checkWorkloads(all);
  }

  @Test
  void shouldGiveEachServiceAStrimziUserWithReadmesAclsAndTheSystemTopics() {
    List<HasMetadata> all = render(FULL_VALUES);
    Map<String, String> placeholders =
        Map.of(
            ServiceAcls.NAMES_PREFIX, "acme-", ServiceAcls.OPENLINEAGE_TOPIC, "acme-openlineage");
    List<GenericKubernetesResource> users = ofKind(all, "KafkaUser");
    assertThat(users)
        .extracting(u -> u.getMetadata().getName())
        .containsExactlyInAnyOrder(
            "commit-service", "partition-service", "datum-processor", "lineage-service");
    for (GenericKubernetesResource user : users) {
      assertThat((String) user.get("spec", "authentication", "type")).isEqualTo("scram-sha-512");
      var principal = ServiceAcls.Principal.ofService(user.getMetadata().getName()).orElseThrow();
      Set<String> expected = new HashSet<>();
      for (ServiceAcls.Rule rule : ServiceAcls.rules(principal)) {
        String name = placeholders.getOrDefault(rule.name(), rule.name());
        expected.add(
            acl(
                camel(rule.resourceType().name(), false),
                name,
                rule.patternType() == PatternType.PREFIXED ? "prefix" : "literal",
                rule.sortedOperations().stream().map(o -> camel(o.name(), true)).toList()));
      }
      List<Map<String, Object>> acls = user.get("spec", "authorization", "acls");
      Set<String> actual = new HashSet<>();
      for (Map<String, Object> entry : acls) {
        @SuppressWarnings("unchecked")
        Map<String, Object> resource = (Map<String, Object>) entry.get("resource");
        @SuppressWarnings("unchecked")
        List<String> operations = (List<String>) entry.get("operations");
        actual.add(
            acl(
                (String) resource.get("type"),
                (String) resource.get("name"),
                (String) resource.get("patternType"),
                operations));
      }
      assertThat(actual).as("ACLs of %s", principal).isEqualTo(expected);
      assertThat(acls).as("no duplicate ACL of %s", principal).hasSize(expected.size());
    }
    assertThat(ofKind(all, "KafkaTopic"))
        .extracting(t -> (String) t.get("spec", "topicName"))
        .contains("tusk.pipelines", "tusk.role-bindings", "tusk.audit")
        .allMatch(name -> name.startsWith("tusk."))
        .hasSize(13);
    // With Strimzi, the User Operator's Secret per user holds the JAAS line; the chart holds none.
    Secret secret = ofType(all, Secret.class).get(0);
    assertThat(secret.getStringData().keySet()).noneMatch(k -> k.startsWith("kafka-jaas-"));
  }

  /** "TRANSACTIONAL_ID" to "transactionalId" (Strimzi's resource types), or "TransactionalId". */
  private static String camel(String constant, boolean capitalized) {
    StringBuilder out = new StringBuilder();
    for (String word : constant.toLowerCase(Locale.ROOT).split("_")) {
      boolean upper = capitalized || out.length() > 0;
      out.append(upper ? Character.toUpperCase(word.charAt(0)) + word.substring(1) : word);
    }
    return out.toString();
  }

  private static String acl(String type, String name, String pattern, List<String> operations) {
    return type + " " + pattern + " " + name + " " + operations.stream().sorted().toList();
  }

  /**
   * What every workload must satisfy: probes on /health of its service's port, only keys its config
   * class reads and every required one, credentials only by secretKeyRef (to a Secret the chart
   * makes or a Strimzi user's), a PDB selecting exactly its pods, and for a StatefulSet the state
   * directory on a volumeClaimTemplate.
   */
  private static void checkWorkloads(List<HasMetadata> all) {
    Set<String> secrets =
        ofType(all, Secret.class).stream()
            .map(s -> s.getMetadata().getName())
            .collect(Collectors.toSet());
    ofKind(all, "KafkaUser").forEach(u -> secrets.add(u.getMetadata().getName()));
    List<PodDisruptionBudget> pdbs = ofType(all, PodDisruptionBudget.class);
    Map<HasMetadata, PodTemplateSpec> workloads = workloads(all);
    assertThat(pdbs).hasSameSizeAs(workloads.keySet());
    for (var workload : workloads.entrySet()) {
      PodTemplateSpec pod = workload.getValue();
      String service = service(pod);
      String what = workload.getKey().getMetadata().getName();
      Container container = pod.getSpec().getContainers().get(0);
      Map<String, EnvVar> env = env(container);
      int port = PORTS.get(service);
      assertThat(env.get("TUSK_HTTP_PORT").getValue()).isEqualTo(String.valueOf(port));
      assertThat(container.getPorts()).anyMatch(p -> p.getContainerPort() == port);
      for (Probe probe : List.of(container.getReadinessProbe(), container.getLivenessProbe())) {
        assertThat(probe).as("probes of %s", what).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo("/health");
        assertThat(probe.getHttpGet().getPort().getIntVal())
            .as("probe port of %s", what)
            .isEqualTo(port);
      }
      assertThat(container.getResources().getRequests()).as("requests of %s", what).isNotEmpty();
      assertThat(container.getResources().getLimits()).as("limits of %s", what).isNotEmpty();
      if (STREAMS_SERVICES.contains(service)) {
        // The image's heap is 75 % of the memory limit; RocksDB's bound comes on top of it.
        assertThat(env)
            .as("%s bounds its RocksDB memory", what)
            .containsKey("TUSK_ROCKSDB_MEMORY_MB");
        long limit =
            Quantity.getAmountInBytes(container.getResources().getLimits().get("memory"))
                .longValue();
        long rocksDb = Long.parseLong(env.get("TUSK_ROCKSDB_MEMORY_MB").getValue()) << 20;
        assertThat(limit / 4)
            .as("%s: the memory limit left beside the heap holds RocksDB and 256 MiB", what)
            .isGreaterThanOrEqualTo(rocksDb + (256L << 20));
      }
      for (EnvVar var : env.values()) {
        // A variable the service does not read is allowed only as a part of one it reads.
        String reference = "$(" + var.getName() + ")";
        boolean part =
            env.values().stream()
                .anyMatch(v -> v.getValue() != null && v.getValue().contains(reference));
        assertThat(ServiceConfigKeys.reads(service, var.getName()) || part)
            .as("%s sets %s, which %s does not read", what, var.getName(), service)
            .isTrue();
        boolean credential = var.getName().matches(".*(SECRET|JAAS|PASSWORD|ADMINS).*");
        if (credential) {
          assertThat(var.getValue()).as("%s inlines %s", what, var.getName()).isNull();
          assertThat(var.getValueFrom().getSecretKeyRef().getName())
              .as("%s reads %s from a Secret of the release", what, var.getName())
              .isIn(secrets);
        }
      }
      assertThat(env.keySet()).containsAll(ServiceConfigKeys.required(service));
      if (!service.equals("datum-processor")) {
        assertThat(env).as("%s gets the internal secret", what).containsKey("TUSK_INTERNAL_SECRET");
      }
      Map<String, String> podLabels = pod.getMetadata().getLabels();
      assertThat(pdbs)
          .as("exactly one PDB selects the pods of %s", what)
          .filteredOn(
              pdb ->
                  podLabels
                      .entrySet()
                      .containsAll(pdb.getSpec().getSelector().getMatchLabels().entrySet()))
          .hasSize(1);
      if (workload.getKey() instanceof StatefulSet statefulSet) {
        assertThat(statefulSet.getSpec().getVolumeClaimTemplates())
            .extracting(c -> c.getMetadata().getName())
            .containsExactly("state");
        String stateDir = env.get("TUSK_STATE_DIR").getValue();
        assertThat(container.getVolumeMounts())
            .anyMatch(m -> m.getName().equals("state") && m.getMountPath().equals(stateDir));
        assertThat(ofType(all, Service.class))
            .as("headless Service of %s", what)
            .anyMatch(
                s ->
                    s.getMetadata().getName().equals(statefulSet.getSpec().getServiceName())
                        && "None".equals(s.getSpec().getClusterIP()));
      }
    }
  }

  /**
   * Against a real cluster (KUBECONFIG pointing at one that answers): the API server accepts every
   * manifest (helm install --dry-run=server), CRDs included when KEDA and Strimzi are installed.
   */
  @Test
  @SuppressWarnings("unchecked")
  void shouldBeAcceptedByARealClustersApiServer() throws IOException {
    String kubeconfig = System.getenv("KUBECONFIG");
    Assumptions.assumeTrue(
        kubeconfig != null && Files.isRegularFile(Path.of(kubeconfig)), "KUBECONFIG not set");
    Map<String, Object> config;
    try (Reader reader = Files.newBufferedReader(Path.of(kubeconfig))) {
      config = new Yaml().load(reader);
    }
    List<Map<String, Object>> clusters = (List<Map<String, Object>>) config.get("clusters");
    URI server =
        URI.create((String) ((Map<String, Object>) clusters.get(0).get("cluster")).get("server"));
    int port = server.getPort() > 0 ? server.getPort() : 443;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(server.getHost(), port), 5_000);
    } catch (IOException e) {
      Assumptions.abort("cluster in KUBECONFIG not reachable: " + e.getMessage());
    }
    Release release =
        new Helm(CHART)
            .install()
            .withKubeConfig(Path.of(kubeconfig))
            .withName("tusk-helm-chart-test")
            .withNamespace("default")
            .dryRun()
            .withDryRunOption(DryRun.SERVER)
            .call();
    assertThat(release.getStatus()).isEqualTo("pending-install");
    assertThat(release.getOutput()).contains("tusk-helm-chart-test-tusk-commit-service");
  }
}
