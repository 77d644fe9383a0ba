package io.tusk.partition;

import io.tusk.common.topics.Topics;
import io.tusk.schemas.Output;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RowFormat;
import io.tusk.schemas.TableSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Specs and records of the ingest tests: derived repos and the pipeline outputs they read. */
final class IngestFixtures {
  private IngestFixtures() {}

  /**
   * The repo derived from pipeline {@code pipeline}'s outputs by their field {@code memberKey}, as
   * the commit service creates it: {@code updatePartitions} is the output topic's partition count;
   * 3 member partitions (one Kafka Streams application serves every repo's by-member topic, so they
   * all have the same count).
   */
  static RepoSpec derived(String name, String pipeline, String memberKey, int updatePartitions) {
    return RepoSpec.newBuilder()
        .setName(name)
        .setFormat(RowFormat.OUTPUT)
        .setDefaultTable("output")
        .setTables(
            List.of(
                TableSpec.newBuilder()
                    .setName("output")
                    .setColumns(List.of("member", memberKey, "data"))
                    .setMemberKey(memberKey)
                    .setRowKey(List.of("member"))
                    .build()))
        .setUpdatePartitions(updatePartitions)
        .setMemberPartitions(IngestIT.MEMBER_PARTITIONS)
        .setCreatedAt(System.currentTimeMillis())
        .setUpdatesTopic(pipeline + ".output")
        .setSourcePipeline(pipeline)
        .build();
  }

  /** An output of {@code pipeline} for upstream {@code member} with JSON {@code data}. */
  static Output output(String pipeline, String member, String data) {
    return Output.newBuilder()
        .setPipeline(pipeline)
        .setMember(member)
        .setJobId("job-1")
        .setCommitId("commit-1")
        .setGlobalId("commit-1")
        .setDatumHash("datum-" + member)
        .setContentType("application/json")
        .setData(ByteBuffer.wrap(data.getBytes(StandardCharsets.UTF_8)))
        .setOutputHash("hash-" + member)
        .setInputs(List.of())
        .build();
  }

  /** The wire bytes of an output on {@code <pipeline>.output}. */
  static byte[] outputBytes(Topics topics, String pipeline, String member, String data) {
    return topics.output(pipeline).value(output(pipeline, member, data));
  }
}
