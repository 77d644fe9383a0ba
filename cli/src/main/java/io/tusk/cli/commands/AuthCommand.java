package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.Home;
import io.tusk.cli.local.LocalAuth;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tusk auth ...}: who the token is, role bindings (grant, revoke, list), and tokens of the
 * local stack's key set.
 */
@Command(
    name = "auth",
    description = "Who you are, who may do what (role bindings), and local tokens.",
    subcommands = {
      AuthCommand.Whoami.class,
      AuthCommand.Grant.class,
      AuthCommand.Revoke.class,
      AuthCommand.List.class,
      AuthCommand.Token.class
    })
public final class AuthCommand {

  /** {@code tusk auth whoami}. */
  @Command(name = "whoami", description = "The token's subject, whether admin, and its roles.")
  static final class Whoami implements Callable<Integer> {
    @Mixin Api api;

    @Override
    public Integer call() {
      api.print(
          api.client().whoami(),
          me -> {
            System.out.printf(
                "%s%s%n",
                me.path("subject").asText(), me.path("admin").asBoolean() ? " (admin)" : "");
            printBindings(me.path("bindings"));
          });
      return 0;
    }
  }

  /** {@code tusk auth grant RESOURCE ROLE SUBJECT}. */
  @Command(
      name = "grant",
      description =
          "Grant a role: reader, writer, owner or content on repo:<name> or pipeline:<name>;"
              + " reader or admin on cluster. Needs owner of the resource (admin for the cluster).")
  static final class Grant implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "repo:<name>, pipeline:<name> or cluster.")
    String resource;

    @Parameters(index = "1", description = "reader, writer, owner, content or admin.")
    String role;

    @Parameters(index = "2", description = "The token subject (sub) to grant it to.")
    String subject;

    @Override
    public Integer call() {
      api.print(
          api.client().grant(resource, role, subject),
          b -> System.out.printf("granted %s on %s to %s%n", role, resource, subject));
      return 0;
    }
  }

  /** {@code tusk auth revoke RESOURCE ROLE SUBJECT}. */
  @Command(name = "revoke", description = "Revoke a role (as grant, the other way).")
  static final class Revoke implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(index = "0", description = "repo:<name>, pipeline:<name> or cluster.")
    String resource;

    @Parameters(index = "1", description = "reader, writer, owner, content or admin.")
    String role;

    @Parameters(index = "2", description = "The token subject (sub) to revoke it from.")
    String subject;

    @Override
    public Integer call() {
      api.client().revoke(resource, role, subject);
      if (!api.json()) {
        System.out.printf("revoked %s on %s from %s%n", role, resource, subject);
      }
      return 0;
    }
  }

  /** {@code tusk auth list [RESOURCE]}. */
  @Command(
      name = "list",
      description =
          "The role bindings on a resource (its owners may ask), or every binding (admins).")
  static final class List implements Callable<Integer> {
    @Mixin Api api;

    @Parameters(
        index = "0",
        arity = "0..1",
        description = "repo:<name>, pipeline:<name> or cluster; none: every binding.")
    String resource;

    @Override
    public Integer call() {
      api.print(api.client().bindings(resource), b -> printBindings(b.path("bindings")));
      return 0;
    }
  }

  /** {@code tusk auth token [--subject S] [--valid 8h]}. */
  @Command(
      name = "token",
      description =
          "Print a token of the local stack's key set (.tusk/auth): for the web page, curl, or a"
              + " second user to test roles with. A real deployment's tokens come from its OIDC"
              + " issuer.")
  static final class Token implements Callable<Integer> {
    @Option(
        names = "--subject",
        defaultValue = LocalAuth.ADMIN,
        description = "The token's subject (default: the local admin, ${DEFAULT-VALUE}).")
    String subject;

    @Option(
        names = "--valid",
        defaultValue = "PT8H",
        description = "How long it is valid, as an ISO-8601 duration (default ${DEFAULT-VALUE}).")
    String valid;

    @Override
    public Integer call() {
      Path home = Home.home();
      if (!Files.isDirectory(home.resolve("auth"))) {
        System.err.println(
            "no local key set under "
                + home.resolve("auth")
                + ": start the local stack once (./tusk up)");
        return 1;
      }
      Duration validity;
      try {
        validity = Duration.parse(valid);
      } catch (DateTimeParseException e) {
        System.err.println("--valid must be an ISO-8601 duration such as PT8H, not " + valid);
        return 2;
      }
      System.out.println(LocalAuth.of(home).token(subject, validity));
      return 0;
    }
  }

  static void printBindings(JsonNode bindings) {
    for (JsonNode b : bindings) {
      System.out.printf(
          "%-32s %-8s %s%n",
          b.path("resource").asText(), b.path("role").asText(), b.path("subject").asText());
    }
  }
}
