package io.tusk.cli.commands;

import picocli.CommandLine.Command;

/**
 * {@code tusk lineage ...}: the lineage service's provenance and subvenance queries (where an
 * output came from, what was derived from a member or row, an output's versions and what changed
 * between them, everything one source commit caused). Each subcommand is a {@link LineageQuery}.
 */
@Command(
    name = "lineage",
    description = "Provenance and subvenance queries of the lineage service.",
    subcommands = {
      LineageProvenance.class,
      LineageSubvenance.Member.class,
      LineageSubvenance.Row.class,
      LineageHistory.class,
      LineageChanges.class,
      LineageGlobal.class
    })
public final class LineageCommand {}
