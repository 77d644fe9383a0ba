package io.tusk.lineage;

import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import io.tusk.schemas.TransformKind;
import io.tusk.schemas.TransformSpec;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link Catalog} the tests fill, with builders for the specs Tusk's commit service writes. */
final class FakeCatalog implements Catalog {
  final Map<String, RepoSpec> repos = new ConcurrentHashMap<>();
  final Map<String, PipelineSpec> pipelines = new ConcurrentHashMap<>();

  @Override
  public Map<String, RepoSpec> repos() {
    return Map.copyOf(repos);
  }

  @Override
  public Map<String, PipelineSpec> pipelines() {
    return Map.copyOf(pipelines);
  }

  /** Adds a source repo. */
  FakeCatalog repo(String name) {
    repos.put(name, repoSpec(name, null));
    return this;
  }

  /** Adds a pipeline reading {@code inputRepo}. */
  FakeCatalog pipeline(String name, String inputRepo) {
    pipelines.put(name, pipelineSpec(name, inputRepo));
    return this;
  }

  /** Adds the derived repo of {@code pipeline}'s outputs, {@code <pipeline>-by-<key>}. */
  FakeCatalog derivedRepo(String pipeline, String key) {
    String name = pipeline + "-by-" + key;
    repos.put(name, repoSpec(name, pipeline));
    return this;
  }

  static RepoSpec repoSpec(String name, String sourcePipeline) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(sourcePipeline == null ? RowFormat.CSV : RowFormat.OUTPUT)
        .setDefaultTable("T")
        .setTables(List.of(table("T"), table("CONDITION_ERA"), table("DRUG_ERA")))
        .setUpdatePartitions(3)
        .setMemberPartitions(3)
        .setCreatedAt(Fixtures.T0)
        .setUpdatesTopic(sourcePipeline == null ? null : sourcePipeline + ".output")
        .setSourcePipeline(sourcePipeline)
        .build();
  }

  /** A table of rows {@code member,code,date}. */
  private static TableSpec table(String name) {
    return TableSpec.newBuilder()
        .setName(name)
        .setColumns(List.of("member", "code", "date"))
        .setMemberKey("member")
        .build();
  }

  static PipelineSpec pipelineSpec(String name, String inputRepo) {
    return PipelineSpec.newBuilder()
        .setName(name)
        .setInputRepo(inputRepo)
        .setTransform(
            TransformSpec.newBuilder().setKind(TransformKind.JAVA).setName("unused").build())
        .setParallelism(2)
        .setSpecHash("spec-hash")
        .setCreatedAt(Fixtures.T0)
        .build();
  }
}
