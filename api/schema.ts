/**
 * The GraphQL schema (SDL). Kept as a TypeScript module so the compiled service in `dist/` carries
 * it without copying assets. Amounts are `Float` because fleet totals of millicores and MiB exceed
 * GraphQL's 32-bit `Int`.
 */

/** The SDL of the Tianshu API. */
export const SCHEMA_SDL = /* GraphQL */ `
"Arbitrary JSON (cloud connection settings, audit details, stored specs)."
scalar JSON

"An amount of every accounted resource: cpu in millicores, memory in MiB, gpu and instances as counts."
type Resources { cpu: Float! memory: Float! gpu: Float! instances: Float! }
input ResourcesInput { cpu: Float memory: Float gpu: Float instances: Float }

"Per-resource limits; null is unlimited."
type Limits { cpu: Float memory: Float gpu: Float instances: Float }
input LimitsInput { cpu: Float memory: Float gpu: Float instances: Float }

type TierLimits { tier: String! limits: Limits! }
input TierLimitsInput { tier: String! limits: LimitsInput! }
type Quota { total: Limits! byTier: [TierLimits!]! }
input QuotaInput { total: LimitsInput byTier: [TierLimitsInput!] }

type Label { key: String! value: String! }
input LabelInput { key: String! value: String! }

type CloudAttributes { arch: String! xinchuang: Boolean! gpuModel: String labels: [Label!]! }
input CloudAttributesInput { arch: String xinchuang: Boolean gpuModel: String labels: [LabelInput!] }

type Taint { key: String! value: String! effect: String! }
input TaintInput { key: String! value: String effect: String! }

"A registered cloud."
type Cloud {
  id: ID!
  kind: String!
  locality: String!
  zone: String!
  tier: String!
  tierExclusive: Boolean!
  attributes: CloudAttributes!
  taints: [Taint!]!
  capacity: Resources!
  allocated: Resources!
  "capacity − allocated"
  free: Resources!
  costPerUnit: Resources!
  condition: String!
  version: Int!
}

input RegisterCloudInput {
  id: ID!
  kind: String
  locality: String!
  zone: String
  tier: String!
  tierExclusive: Boolean
  attributes: CloudAttributesInput
  taints: [TaintInput!]
  capacity: ResourcesInput!
  costPerUnit: ResourcesInput
  connection: JSON
}

input UpdateCloudInput {
  locality: String
  zone: String
  tier: String
  tierExclusive: Boolean
  attributes: CloudAttributesInput
  taints: [TaintInput!]
  capacity: ResourcesInput
  costPerUnit: ResourcesInput
  connection: JSON
}

type TierUsage { tier: String! usage: Resources! }

"A tenant (agency) node; usage includes its descendants."
type Tenant {
  path: String!
  displayName: String!
  parent: String
  quota: Quota!
  usage: Resources!
  usageByTier: [TierUsage!]!
  children: [Tenant!]!
  version: Int!
}

type Slice { cloudId: String! replicas: Int! }
type ScoreTerm { scorer: String! score: Float! weight: Float! }
type RankedCloud { cloudId: String! total: Float! maxReplicas: Int! terms: [ScoreTerm!]! }
type Rejection { cloudId: String! filter: String! reason: String! detail: String! }
type ReasonCount { reason: String! count: Int! }
type Failure { reason: String! detail: String! }

"Why a placement is what it is: the chosen clouds' scores and every other cloud's rejection."
type Explanation {
  ok: Boolean!
  summary: String!
  considered: Int!
  assignments: [Slice!]!
  ranked: [RankedCloud!]!
  rejected: [Rejection!]!
  reasonCounts: [ReasonCount!]!
  failure: Failure
  demand: Resources!
  "On a stored explanation: how many ranked clouds and rejections were left out (reasonCounts still count every cloud)."
  omitted: Omitted
}

type Omitted { ranked: Int! rejected: Int! }

type Placement { generation: Int! slices: [Slice!]! cause: String! decidedAt: String! explanation: Explanation! }

type Deployment {
  id: ID!
  tenant: String!
  name: String!
  phase: String!
  generation: Int!
  replicas: Int!
  slices: [Slice!]!
  message: String!
  "The validated spec, defaults applied."
  spec: JSON!
  placement: Placement
  createdAt: String!
  updatedAt: String!
  version: Int!
}

type PageInfo { endCursor: String hasNextPage: Boolean! }
type DeploymentConnection { nodes: [Deployment!]! pageInfo: PageInfo! }

type AuditEvent {
  seq: Int!
  time: String!
  actor: String!
  role: String!
  action: String!
  object: String!
  result: String!
  detail: JSON!
  prevHash: String!
  hash: String!
}
type AuditEventConnection { nodes: [AuditEvent!]! pageInfo: PageInfo! }

"What a placement would use of one ancestor's quota."
type QuotaUse {
  tenant: String!
  "The limits that apply: the total and, for the tier of each chosen cloud, the per-tier limit."
  limit: Limits!
  "Remaining headroom before this placement (null: unlimited)."
  headroom: Limits!
  request: Resources!
  "Headroom after this placement (null: unlimited); negative would mean QUOTA_EXCEEDED."
  after: Limits!
  fits: Boolean!
}

type Preview { explanation: Explanation! quota: [QuotaUse!]! }

input WorkloadInput { kind: String! image: String! instanceType: String }
input PerReplicaInput { cpu: Int memory: Int gpu: Int }
input SpreadInput { minClouds: Int maxReplicasPerCloud: Int topology: String }
input RequiredAttributesInput { arch: String xinchuang: Boolean gpuModel: String }
input LabelExpressionInput { key: String! operator: String! values: [String!] }
input TolerationInput { key: String! operator: String value: String effect: String }

"A deployment request; validated by the same rules as every other entry point."
input DeploymentSpecInput {
  tenant: String!
  name: String!
  workload: WorkloadInput!
  replicas: Int!
  resources: PerReplicaInput!
  minTier: String!
  residency: [String!]
  localityPreference: String
  spread: SpreadInput
  requiredAttributes: RequiredAttributesInput
  labelSelector: [LabelExpressionInput!]
  tolerations: [TolerationInput!]
  strategy: String
  priority: Int
  allowPreemption: Boolean
}

type AdmissionResult { deployment: Deployment! placement: Placement replayed: Boolean! }

type ResourceSummary { capacity: Resources! allocated: Resources! headroom: Resources! }
type TierSummary { tier: String! clouds: Int! resources: ResourceSummary! }
type ProvinceSummary { province: String! clouds: Int! resources: ResourceSummary! }
type ConditionCount { condition: String! clouds: Int! }
"Capacity, allocation and headroom (capacity − allocated on Ready clouds) of the fleet."
type FleetSummary {
  clouds: Int!
  totals: ResourceSummary!
  byTier: [TierSummary!]!
  byProvince: [ProvinceSummary!]!
  conditions: [ConditionCount!]!
}

type Viewer { subject: String! role: String! tenant: String expiresAt: Float }

type DeploymentEvent {
  type: String!
  deploymentId: ID!
  tenant: String!
  name: String!
  phase: String!
  generation: Int!
  slices: [Slice!]!
  message: String!
  time: String!
}

type Query {
  viewer: Viewer!
  clouds(condition: String, tier: String, under: String): [Cloud!]!
  cloud(id: ID!): Cloud
  tenants(under: String): [Tenant!]!
  tenant(path: String!): Tenant
  deployments(tenant: String, phase: String, cloudId: String, first: Int, after: String): DeploymentConnection!
  deployment(id: ID!): Deployment
  previewPlacement(spec: DeploymentSpecInput!): Preview!
  auditEvents(first: Int, after: String, objectPrefix: String): AuditEventConnection!
  fleetSummary: FleetSummary!
}

type Mutation {
  registerCloud(input: RegisterCloudInput!): Cloud!
  updateCloud(id: ID!, patch: UpdateCloudInput!, expectedVersion: Int): Cloud!
  cordonCloud(id: ID!, reason: String): Cloud!
  uncordonCloud(id: ID!): Cloud!
  drainCloud(id: ID!, reason: String): Cloud!
  removeCloud(id: ID!): ID!
  createTenant(path: String!, displayName: String, quota: QuotaInput): Tenant!
  setQuota(path: String!, quota: QuotaInput!): Tenant!
  requestDeployment(spec: DeploymentSpecInput!, idempotencyKey: String, queueIfUnschedulable: Boolean): AdmissionResult!
  scaleDeployment(id: ID!, replicas: Int!): AdmissionResult!
  deleteDeployment(id: ID!): Deployment!
}

type Subscription {
  "Events of deployments in the caller's tenant subtree (optionally narrowed to a tenant or one deployment)."
  deploymentEvents(tenant: String, deploymentId: ID): DeploymentEvent!
}
`;
