package io.tusk.lineage;

import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import java.util.Map;

/**
 * The repos and pipelines of the deployment (small compacted topics every instance reads whole), so
 * queries that follow the DAG know which pipelines read a repo and which repos a pipeline feeds.
 */
public interface Catalog {
  /** Every repo by name. */
  Map<String, RepoSpec> repos();

  /** Every pipeline by name. */
  Map<String, PipelineSpec> pipelines();
}
