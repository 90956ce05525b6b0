{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "tianshu.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "tianshu.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tianshu.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "tianshu.labels" -}}
helm.sh/chart: {{ include "tianshu.chart" . }}
{{ include "tianshu.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tianshu
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The immutable subset used by selectors. */}}
{{- define "tianshu.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tianshu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tianshu.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tianshu.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tianshu.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where the ConfigMap is mounted, and the file the container reads (the image's CMD uses the same path). */}}
{{- define "tianshu.configDir" -}}/etc/tianshu{{- end }}
{{- define "tianshu.configFile" -}}{{ include "tianshu.configDir" . }}/config.yaml{{- end }}

{{/* True ("true") when the database URL comes from some Secret rather than the SQLite default. */}}
{{- define "tianshu.externalDatabase" -}}
{{- if or .Values.database.url .Values.database.existingSecret }}true{{ end }}
{{- end }}

{{/* The chart's own Secret is rendered only when it has something to hold. */}}
{{- define "tianshu.secretData" -}}
{{- if and .Values.database.url (not .Values.database.existingSecret) }}
database-url: {{ .Values.database.url | b64enc | quote }}
{{- end }}
{{- if and .Values.oidc.enabled (not .Values.oidc.existingSecret) }}
oidc-issuer: {{ .Values.oidc.issuer | b64enc | quote }}
oidc-audience: {{ .Values.oidc.audience | b64enc | quote }}
oidc-jwks-url: {{ .Values.oidc.jwksUrl | b64enc | quote }}
{{- end }}
{{- range $k, $v := .Values.providerCredentials.env }}
{{ printf "env.%s" $k }}: {{ $v | toString | b64enc | quote }}
{{- end }}
{{- range $k, $v := .Values.providerCredentials.files }}
{{ printf "file.%s" $k }}: {{ $v | toString | b64enc | quote }}
{{- end }}
{{- end }}

{{/* The Tianshu configuration file. Chart-owned fields are written last so they always win. */}}
{{- define "tianshu.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $_ := set $cfg "listen" (dict "host" .Values.listenHost "port" (int .Values.containerPort)) }}
{{- $_ := set $cfg "dataDir" .Values.dataDir }}
{{- if .Values.oidc.enabled }}
{{- /* issuer/audience/jwksUrl come from the Secret through TIANSHU_OIDC_* overrides. */}}
{{- $auth := default dict $cfg.auth }}
{{- $_ := set $auth "oidc" (dict "algorithms" .Values.oidc.algorithms) }}
{{- $_ := set $cfg "auth" $auth }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
