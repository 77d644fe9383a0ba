package io.tusk.cli.context;

import java.nio.file.Path;

/**
 * A named place the CLI talks to (like pachctl's and kubectl's contexts): the services' URLs, the
 * Kafka bootstrap servers {@code tusk put} writes to, the token (or a file holding it) and the CA
 * certificates to trust. Null fields fall back to the defaults of the local stack.
 *
 * @param token the bearer token itself, or null
 * @param tokenFile a file holding the token (read on each command, so a renewed token is used), or
 *     null
 */
public record Context(
    String name,
    String commitUrl,
    String lineageUrl,
    String bootstrapServers,
    String token,
    Path tokenFile,
    Path caFile) {}
