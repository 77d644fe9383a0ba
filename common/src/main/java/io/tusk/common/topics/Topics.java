package io.tusk.common.topics;

import io.tusk.schemas.AuditEvent;
import io.tusk.schemas.Branch;
import io.tusk.schemas.Commit;
import io.tusk.schemas.CommitLeader;
import io.tusk.schemas.CommitPart;
import io.tusk.schemas.Datum;
import io.tusk.schemas.DatumResult;
import io.tusk.schemas.Erasure;
import io.tusk.schemas.Job;
import io.tusk.schemas.JobPart;
import io.tusk.schemas.MemberEvent;
import io.tusk.schemas.MemberObject;
import io.tusk.schemas.Output;
import io.tusk.schemas.PipelineSpec;
import io.tusk.schemas.RepoSpec;
import io.tusk.schemas.RoleBinding;
import io.tusk.schemas.RowOwnerEvent;
import io.tusk.schemas.SealRequest;
import io.tusk.schemas.registry.SchemaRegistryClient;
import io.tusk.schemas.serde.AvroSerde;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * Every topic of Tusk with its serdes: keys are strings (names, IDs, member keys), values are Avro
 * in the Confluent wire format through the schema registry. One instance per registry client; the
 * serdes cache registrations and schema lookups, so share it.
 */
public final class Topics {
  private final SchemaRegistryClient registry;
  private final Serde<String> keys = Serdes.String();

  public final Topic<String, RepoSpec> repos;
  public final Topic<String, PipelineSpec> pipelines;
  public final Topic<String, Commit> commits;
  public final Topic<String, Job> jobs;
  public final Topic<String, DatumResult> datumResults;
  public final Topic<String, CommitPart> commitParts;
  public final Topic<String, Branch> branches;
  public final Topic<String, JobPart> jobParts;
  public final Topic<String, SealRequest> sealRequests;
  public final Topic<String, RoleBinding> roleBindings;
  public final Topic<String, AuditEvent> audit;
  public final Topic<String, Erasure> erasures;
  public final Topic<String, CommitLeader> commitLeader;

  private final AvroSerde<MemberEvent> memberEvents;
  private final AvroSerde<MemberObject> memberObjects;
  private final AvroSerde<RowOwnerEvent> rowOwnerEvents;
  private final AvroSerde<Datum> datums;
  private final AvroSerde<Output> outputs;

  public Topics(SchemaRegistryClient registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
    repos = new Topic<>(TopicNames.REPOS, keys, avro(RepoSpec.class));
    pipelines = new Topic<>(TopicNames.PIPELINES, keys, avro(PipelineSpec.class));
    commits = new Topic<>(TopicNames.COMMITS, keys, avro(Commit.class));
    jobs = new Topic<>(TopicNames.JOBS, keys, avro(Job.class));
    jobParts = new Topic<>(TopicNames.JOB_PARTS, keys, avro(JobPart.class));
    sealRequests = new Topic<>(TopicNames.SEAL_REQUESTS, keys, avro(SealRequest.class));
    datumResults = new Topic<>(TopicNames.DATUM_RESULTS, keys, avro(DatumResult.class));
    commitParts = new Topic<>(TopicNames.COMMIT_PARTS, keys, avro(CommitPart.class));
    branches = new Topic<>(TopicNames.BRANCHES, keys, avro(Branch.class));
    roleBindings = new Topic<>(TopicNames.ROLE_BINDINGS, keys, avro(RoleBinding.class));
    audit = new Topic<>(TopicNames.AUDIT, keys, avro(AuditEvent.class));
    erasures = new Topic<>(TopicNames.ERASURES, keys, avro(Erasure.class));
    commitLeader = new Topic<>(TopicNames.COMMIT_LEADER, keys, avro(CommitLeader.class));
    memberEvents = avro(MemberEvent.class);
    memberObjects = avro(MemberObject.class);
    rowOwnerEvents = avro(RowOwnerEvent.class);
    datums = avro(Datum.class);
    outputs = avro(Output.class);
  }

  /** The registry the serdes use. */
  public SchemaRegistryClient registry() {
    return registry;
  }

  /** String serde for keys. */
  public Serde<String> keySerde() {
    return keys;
  }

  /** Internal: a repo's rows re-keyed by member, with barriers, seals and reject notices. */
  public Topic<String, MemberEvent> byMember(String repo) {
    return new Topic<>(TopicNames.byMember(repo), keys, memberEvents);
  }

  /** Internal: a repo's row-key claims and claim markers (key: {@code <table>/<rowKey>}). */
  public Topic<String, RowOwnerEvent> rowOwners(String repo) {
    return new Topic<>(TopicNames.rowOwners(repo), keys, rowOwnerEvents);
  }

  /** The serde of row-owner events, for pattern-subscribed topologies. */
  public AvroSerde<RowOwnerEvent> rowOwnerEventSerde() {
    return rowOwnerEvents;
  }

  /** A repo's latest member objects (key: member). */
  public Topic<String, MemberObject> members(String repo) {
    return new Topic<>(TopicNames.members(repo), keys, memberObjects);
  }

  /** A pipeline's datums (key: member). */
  public Topic<String, Datum> datums(String pipeline) {
    return new Topic<>(TopicNames.datums(pipeline), keys, datums);
  }

  /** A pipeline's outputs (key: member). */
  public Topic<String, Output> output(String pipeline) {
    return new Topic<>(TopicNames.output(pipeline), keys, outputs);
  }

  /** The serde of member events, for pattern-subscribed topologies. */
  public AvroSerde<MemberEvent> memberEventSerde() {
    return memberEvents;
  }

  /** The serde of member objects. */
  public AvroSerde<MemberObject> memberObjectSerde() {
    return memberObjects;
  }

  /** The serde of datums. */
  public AvroSerde<Datum> datumSerde() {
    return datums;
  }

  /** The serde of outputs, for pattern-subscribed topologies. */
  public AvroSerde<Output> outputSerde() {
    return outputs;
  }

  /** A serde for any generated Avro value class, registered under the topic-name strategy. */
  public <T extends SpecificRecord> AvroSerde<T> avro(Class<T> type) {
    return AvroSerde.forValue(registry, type);
  }
}
