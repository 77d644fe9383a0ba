{{/* Names and labels shared by the templates. */}}
{{- define "tusk.fullname" -}}
{{- printf "%s-tusk" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "tusk.secretName" -}}
{{- default (printf "%s-credentials" (include "tusk.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* Selector labels of one workload: call with (dict "root" $ "component" "commit-service"). */}}
{{- define "tusk.selectorLabels" -}}
app.kubernetes.io/name: tusk
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tusk.labels" -}}
{{ include "tusk.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* The Kafka user (and Strimzi KafkaUser) of a service: (dict "root" $ "service" "..."). */}}
{{- define "tusk.kafkaUser" -}}
{{- (get .root.Values.secrets.kafkaUsers .service).username | default .service -}}
{{- end -}}

{{- define "tusk.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .service .root.Values.image.tag -}}
{{- end -}}

{{/*
Env every service gets: Kafka, registry, instance ID (the pod's name), and the service's own Kafka
credentials from the Secret. Call with (dict "root" $ "service" "commit-service").
*/}}
{{- define "tusk.commonEnv" -}}
{{- $v := .root.Values -}}
- name: TUSK_BOOTSTRAP_SERVERS
  value: {{ $v.kafka.bootstrapServers | quote }}
- name: TUSK_REGISTRY_URL
  value: {{ $v.registry.url | quote }}
- name: TUSK_REPLICATION_FACTOR
  value: {{ $v.kafka.replicationFactor | quote }}
- name: TUSK_SYSTEM_PARTITIONS
  value: {{ $v.kafka.systemPartitions | quote }}
- name: TUSK_HTTP_HOST
  value: "0.0.0.0"
- name: TUSK_INSTANCE_ID
  valueFrom:
    fieldRef: {fieldPath: metadata.name}
{{- if $v.kafka.securityProtocol }}
- name: TUSK_KAFKA_SECURITY_PROTOCOL
  value: {{ $v.kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL" $v.kafka.securityProtocol }}
- name: TUSK_KAFKA_SASL_MECHANISM
  value: {{ $v.kafka.saslMechanism | quote }}
- name: TUSK_KAFKA_SASL_JAAS_CONFIG
  valueFrom:
    {{- if $v.strimzi.enabled }}
    secretKeyRef: {name: {{ include "tusk.kafkaUser" . }}, key: sasl.jaas.config}
    {{- else }}
    secretKeyRef: {name: {{ include "tusk.secretName" .root }}, key: {{ printf "kafka-jaas-%s" .service }}}
    {{- end }}
{{- end }}
{{- if $v.kafka.truststoreSecret }}
- name: TUSK_KAFKA_SSL_TRUSTSTORE_LOCATION
  value: /etc/tusk/kafka/truststore.p12
- name: TUSK_KAFKA_SSL_TRUSTSTORE_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "tusk.secretName" .root }}, key: kafka-truststore-password}
{{- end }}
{{- end }}
{{- end -}}

{{/* Auth env (token verification; with internal=true also TUSK_INTERNAL_SECRET). */}}
{{- define "tusk.authEnv" -}}
{{- $v := .root.Values -}}
{{- if $v.auth.jwksUrl }}
- name: TUSK_AUTH_JWKS_URL
  value: {{ $v.auth.jwksUrl | quote }}
{{- else }}
- name: TUSK_AUTH_JWKS_FILE
  value: /etc/tusk/auth/jwks.json
{{- end }}
{{- with $v.auth.issuer }}
- name: TUSK_AUTH_ISSUER
  value: {{ . | quote }}
{{- end }}
{{- with $v.auth.audience }}
- name: TUSK_AUTH_AUDIENCE
  value: {{ . | quote }}
{{- end }}
- name: TUSK_AUTH_ADMINS
  valueFrom:
    secretKeyRef: {name: {{ include "tusk.secretName" .root }}, key: auth-admins}
{{- if .internal }}
- name: TUSK_INTERNAL_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "tusk.secretName" .root }}, key: internal-secret}
{{- end }}
{{- end -}}

{{/* Volumes for the JWKS file and the Kafka truststore (both from Secrets). */}}
{{- define "tusk.volumes" -}}
{{- $v := .Values -}}
{{- if not $v.auth.jwksUrl }}
- name: auth
  secret:
    secretName: {{ include "tusk.secretName" . }}
    items: [{key: jwks.json, path: jwks.json}]
{{- end }}
{{- if and $v.kafka.securityProtocol $v.kafka.truststoreSecret }}
- name: kafka-truststore
  secret:
    secretName: {{ $v.kafka.truststoreSecret }}
    items: [{key: truststore.p12, path: truststore.p12}]
{{- end }}
{{- end -}}

{{- define "tusk.volumeMounts" -}}
{{- $v := .Values -}}
{{- if not $v.auth.jwksUrl }}
- {name: auth, mountPath: /etc/tusk/auth, readOnly: true}
{{- end }}
{{- if and $v.kafka.securityProtocol $v.kafka.truststoreSecret }}
- {name: kafka-truststore, mountPath: /etc/tusk/kafka, readOnly: true}
{{- end }}
{{- end -}}

{{/* Readiness and liveness on GET /health of the HTTP port (dict "port" N); 503 while a service cannot work. */}}
{{- define "tusk.probes" -}}
readinessProbe:
  httpGet: {path: /health, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
livenessProbe:
  httpGet: {path: /health, port: {{ .port }}}
  initialDelaySeconds: 60
  periodSeconds: 20
  timeoutSeconds: 5
  failureThreshold: 6
{{- end -}}

{{/* A PodDisruptionBudget selecting one workload's pods: (dict "root" $ "component" "..." "name" "..."). */}}
{{- define "tusk.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "tusk.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .root.Values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "tusk.selectorLabels" . | nindent 6 }}
{{- end -}}
