package io.tusk.cli.commands;

import com.fasterxml.jackson.databind.JsonNode;
import io.tusk.cli.TuskClient;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every {@code tusk lineage} subcommand does: ask the lineage service one query, then print
 * its JSON answer ({@code --json}) or the subcommand's own text, to picocli's output stream
 * (System.out unless a caller redirects it), so tests can capture what a user sees without swapping
 * the JVM's standard output. Also the small formatting helpers the subcommands share.
 */
abstract class LineageQuery implements Callable<Integer> {
  @Mixin Api api;
  @Spec CommandSpec spec;

  /** Asks the service; its errors propagate as the command's failure. */
  abstract JsonNode query(TuskClient client);

  /** Prints the answer for a reader. */
  abstract void print(PrintWriter out, JsonNode answer);

  @Override
  public Integer call() {
    JsonNode answer = query(api.client());
    PrintWriter out = spec.commandLine().getOut();
    if (api.json()) {
      Api.printJson(out, answer);
    } else {
      print(out, answer);
    }
    out.flush();
    return 0;
  }

  /** Prints the cursor of the next page, if there is one. */
  static void printNext(PrintWriter out, JsonNode page) {
    if (page.hasNonNull("next")) {
      out.printf("... more: --after %s%n", page.path("next").asText());
    }
  }

  /** An output's data: text as it is, JSON as JSON. */
  static String data(JsonNode data) {
    return data.isTextual() ? data.asText() : data.isMissingNode() ? "-" : data.toString();
  }

  static String yesNo(JsonNode flag) {
    return flag.asBoolean() ? "yes" : "no";
  }
}
