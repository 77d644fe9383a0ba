{{- /* Kafka ACLs per service: README "Kafka ACLs" (io.tusk.common.security.ServiceAcls); HelmChartTest
keeps them equal. <names-prefix> and <openlineage-topic> are filled in by strimzi.yaml. */ -}}
{{- define "tusk.acls" -}}
commit-service:
  - {type: topic, patternType: prefix, name: "tusk.", operations: [Read, Write, Create, Describe, DescribeConfigs, AlterConfigs]}
  - {type: topic, patternType: prefix, name: "<names-prefix>", operations: [Read, Write, Create, Describe, DescribeConfigs, AlterConfigs]}
  - {type: topic, patternType: prefix, name: "tusk-partition-", operations: [Read, Write, Describe, DescribeConfigs]}
  - {type: topic, patternType: prefix, name: "tusk-lineage-", operations: [Read, Write, Describe, DescribeConfigs]}
  - {type: group, patternType: literal, name: "tusk-commit-sealer", operations: [Read]}
  - {type: group, patternType: literal, name: "tusk-commit-leader", operations: [Read]}
  - {type: group, patternType: prefix, name: "tusk-processor-", operations: [Describe]}
  - {type: transactionalId, patternType: prefix, name: "tusk-sealer-", operations: [Write, Describe]}
partition-service:
  - {type: topic, patternType: prefix, name: "tusk.", operations: [Read, Write, Create, Describe]}
  - {type: topic, patternType: prefix, name: "<names-prefix>", operations: [Read, Write, Create, Describe]}
  - {type: topic, patternType: prefix, name: "tusk-partition-", operations: [Read, Write, Create, Delete, Describe]}
  - {type: group, patternType: literal, name: "tusk-rekeyer", operations: [Read]}
  - {type: group, patternType: literal, name: "tusk-partition", operations: [Read]}
  - {type: transactionalId, patternType: prefix, name: "tusk-rekeyer-", operations: [Write, Describe]}
  - {type: transactionalId, patternType: prefix, name: "tusk-partition-", operations: [Write, Describe]}
datum-processor:
  - {type: topic, patternType: prefix, name: "tusk.", operations: [Read, Write, Create, Describe]}
  - {type: topic, patternType: prefix, name: "<names-prefix>", operations: [Read, Write, Create, Describe]}
  - {type: group, patternType: prefix, name: "tusk-processor-", operations: [Read]}
  - {type: transactionalId, patternType: prefix, name: "tusk-processor-", operations: [Write, Describe]}
lineage-service:
  - {type: topic, patternType: prefix, name: "tusk.", operations: [Read, Create, Describe]}
  - {type: topic, patternType: literal, name: "tusk.audit", operations: [Write]}
  - {type: topic, patternType: prefix, name: "<names-prefix>", operations: [Read, Describe]}
  - {type: topic, patternType: prefix, name: "tusk-lineage-", operations: [Read, Write, Create, Delete, Describe]}
  - {type: group, patternType: literal, name: "tusk-lineage", operations: [Read]}
  - {type: topic, patternType: literal, name: "<openlineage-topic>", operations: [Write, Create, Describe]}
{{- end -}}
