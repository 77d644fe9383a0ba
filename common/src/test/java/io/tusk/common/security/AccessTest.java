package io.tusk.common.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.tusk.schemas.RoleBinding;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The access rules: role inclusion, the content right, derived repos, admins. */
class AccessTest {
  private static final Principal ALICE = new Principal("alice");
  private static final Principal ROOT = new Principal("root");
  private static final Resource CLAIMS = Resource.repo("claims");
  private static final Resource RISK = Resource.pipeline("risk");
  private static final Resource RISK_BY_PROVIDER = Resource.repo("risk-by-provider");

  private RoleBindings bindings;
  private Access access;

  @BeforeEach
  void setUp() {
    bindings = RoleBindings.inMemory();
    AuthConfig config =
        new AuthConfig(
            true,
            null,
            null,
            "",
            "",
            Set.of("root"),
            false,
            "",
            Duration.ofMinutes(5),
            io.tusk.common.http.HttpTls.NONE);
    Map<String, String> derived = Map.of("risk-by-provider", "risk");
    access = new Access(config, bindings, repo -> Optional.ofNullable(derived.get(repo)));
  }

  private void bind(String subject, Resource resource, Role role) {
    bindings.apply(
        RoleBindings.key(resource, role, subject),
        RoleBindings.binding(resource, role, subject, "test", 0));
  }

  static Stream<Arguments> inclusions() {
    return Stream.of(
        Arguments.of(Role.READER, Role.READER, true),
        Arguments.of(Role.READER, Role.WRITER, false),
        Arguments.of(Role.WRITER, Role.READER, true),
        Arguments.of(Role.WRITER, Role.OWNER, false),
        Arguments.of(Role.OWNER, Role.WRITER, true),
        Arguments.of(Role.OWNER, Role.READER, true),
        Arguments.of(Role.OWNER, Role.CONTENT, false),
        Arguments.of(Role.CONTENT, Role.READER, false),
        Arguments.of(Role.CONTENT, Role.CONTENT, true));
  }

  @ParameterizedTest(name = "{0} on the repo grants {1}: {2}")
  @MethodSource("inclusions")
  void shouldGrantTheRolesABindingIncludes(Role held, Role needed, boolean granted) {
    // Given alice bound with one role on claims
    bind("alice", CLAIMS, held);

    // Then exactly the included roles are granted there, and nothing elsewhere
    assertThat(access.has(ALICE, needed, CLAIMS)).isEqualTo(granted);
    assertThat(access.has(ALICE, needed, Resource.repo("other"))).isFalse();
    assertThat(access.has(ALICE, needed, Resource.pipeline("claims"))).isFalse();
  }

  @Test
  void shouldGiveADerivedRepoThePipelinesRolesWhenTheRepoComesFromIt() {
    // Given alice owner of pipeline risk (her own pipeline) and holding content on it
    bind("alice", RISK, Role.OWNER);
    bind("alice", RISK, Role.CONTENT);

    // Then she owns its derived repo and may read its content, but not another repo
    assertThat(access.has(ALICE, Role.OWNER, RISK_BY_PROVIDER)).isTrue();
    assertThat(access.has(ALICE, Role.CONTENT, RISK_BY_PROVIDER)).isTrue();
    assertThat(access.has(ALICE, Role.READER, Resource.repo("risk-by-other"))).isFalse();
  }

  @Test
  void shouldNotGiveThePipelineTheDerivedReposRolesWhenOnlyTheRepoIsBound() {
    bind("alice", RISK_BY_PROVIDER, Role.OWNER);
    assertThat(access.has(ALICE, Role.READER, RISK)).isFalse();
    assertThat(access.has(ALICE, Role.OWNER, RISK_BY_PROVIDER)).isTrue();
  }

  @Test
  void shouldAllowEverythingWhenThePrincipalIsAConfiguredOrBoundAdmin() {
    // Given root configured as admin and alice bound admin on the cluster
    bind("alice", Resource.CLUSTER, Role.ADMIN);

    // Then both have every right, content included, on anything
    for (Principal admin : new Principal[] {ROOT, ALICE}) {
      assertThat(access.isAdmin(admin)).isTrue();
      assertThat(access.has(admin, Role.CONTENT, CLAIMS)).isTrue();
      assertThat(access.has(admin, Role.OWNER, RISK)).isTrue();
      assertThat(access.has(admin, Role.ADMIN, Resource.CLUSTER)).isTrue();
    }
  }

  @Test
  void shouldNotMakeAnOwnerAdminWhenOwnerIsBoundOnTheCluster() {
    bind("alice", Resource.CLUSTER, Role.OWNER);
    assertThat(access.isAdmin(ALICE)).isFalse();
    assertThat(access.has(ALICE, Role.ADMIN, Resource.CLUSTER)).isFalse();
    assertThat(access.has(ALICE, Role.READER, CLAIMS)).isFalse();
  }

  @Test
  void shouldTakeARevocationIntoAccountAtOnce() {
    // Given alice reader, then the binding revoked (a tombstone)
    bind("alice", CLAIMS, Role.READER);
    assertThat(access.canRead(ALICE, CLAIMS)).isTrue();
    bindings.apply(RoleBindings.key(CLAIMS, Role.READER, "alice"), null);

    // Then she can no longer read, and the view lists nothing for her
    assertThat(access.canRead(ALICE, CLAIMS)).isFalse();
    assertThat(bindings.of("alice")).isEmpty();
  }

  @Test
  void shouldSkipABindingWhenItsRoleOrResourceDoesNotParse() {
    bindings.apply(
        "bad",
        RoleBinding.newBuilder()
            .setSubject("alice")
            .setResource("table:x")
            .setRole("reader")
            .setGrantedBy("t")
            .setGrantedAt(0)
            .build());
    assertThat(bindings.all()).isEmpty();
  }

  @Test
  void shouldAllowEverythingWhenAuthenticationIsOff() {
    Access off = new Access(AuthConfig.disabled(), bindings, repo -> Optional.empty());
    assertThat(off.has(Principal.ANONYMOUS, Role.CONTENT, CLAIMS)).isTrue();
  }
}
