/**
 * The Grafana dashboards, as code: `dashboards/*.json` are generated from here (see
 * `test/observability-dashboards.test.ts`, which fails when they drift and rewrites them with
 * `UPDATE_DASHBOARDS=1`). Code keeps every panel consistent: each uses the `datasource` template
 * variable, has a unit and a description, and sits on the grid without overlaps.
 *
 * @packageDocumentation
 */

/** One PromQL query of a panel. */
export interface PanelQuery {
  readonly expr: string;
  readonly legend?: string;
  /** Evaluate at one instant (tables, bar gauges, stats) rather than over the time range. */
  readonly instant?: boolean;
}

/** A panel before layout. */
export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: 'timeseries' | 'stat' | 'bargauge' | 'table';
  readonly unit: string;
  readonly queries: readonly PanelQuery[];
  /** Width in grid columns (24 per row); default 12. */
  readonly width?: number;
  readonly height?: number;
  /** Stat thresholds: value at which the panel turns red (green below). */
  readonly redAt?: number;
}

/** A template variable beyond `datasource`: a multi-value label filter. */
export interface LabelVariable {
  readonly name: string;
  readonly label: string;
  /** A `label_values(...)` query. */
  readonly query: string;
}

/** A dashboard before rendering. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly LabelVariable[];
  readonly rows: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[];
}

/** The Grafana JSON of a dashboard (a plain JSON object). */
export type DashboardJson = Record<string, unknown>;

const DS = { type: 'prometheus', uid: '${datasource}' } as const;

/** Renders a {@link DashboardSpec} as Grafana dashboard JSON (schemaVersion 39). */
export function renderDashboard(spec: DashboardSpec): DashboardJson {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.height ?? (p.type === 'stat' ? 4 : 8);
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(renderPanel(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['tianshu'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [] },
        ...spec.variables.map((v) => ({
          name: v.name,
          label: v.label,
          type: 'query',
          datasource: DS,
          query: { query: v.query, refId: `${v.name}-query` },
          definition: v.query,
          refresh: 2,
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
          sort: 1,
          hide: 0,
          options: [],
        })),
      ],
    },
    panels,
  };
}

function renderPanel(p: PanelSpec, id: number, gridPos: { h: number; w: number; x: number; y: number }): Record<string, unknown> {
  const thresholds = {
    mode: 'absolute',
    steps: p.redAt === undefined ? [{ color: 'green', value: null }] : [{ color: 'green', value: null }, { color: 'red', value: p.redAt }],
  };
  const options: Record<string, unknown> =
    p.type === 'timeseries'
      ? { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } }
      : p.type === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'auto' }
        : p.type === 'bargauge'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true }
          : { showHeader: true, cellHeight: 'sm' };
  return {
    id,
    type: p.type,
    title: p.title,
    description: p.description,
    datasource: DS,
    gridPos,
    fieldConfig: { defaults: { unit: p.unit, thresholds, ...(p.type === 'timeseries' ? { custom: { fillOpacity: 10, lineWidth: 1 } } : {}) }, overrides: [] },
    options,
    ...(p.type === 'table' ? { transformations: [{ id: 'labelsToFields', options: { mode: 'columns' } }, { id: 'merge', options: {} }] } : {}),
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DS,
      expr: q.expr,
      legendFormat: q.legend ?? '__auto',
      range: q.instant !== true,
      instant: q.instant === true,
      ...(p.type === 'table' ? { format: 'table' } : {}),
    })),
  };
}

const RI = '$__rate_interval';
const FLEET_FILTER = 'tier=~"$tier",province=~"$province"';

/** Fleet: capacity, allocation and headroom by tier and province; clouds not Ready; top tenants. */
export const FLEET: DashboardSpec = {
  uid: 'tianshu-fleet',
  title: 'Tianshu / Fleet',
  description: 'Capacity, allocation and headroom of every registered cloud, by security tier and province; clouds that do not take work; the largest tenants.',
  variables: [
    { name: 'tier', label: 'Tier', query: 'label_values(tianshu_cloud_info, tier)' },
    { name: 'province', label: 'Province', query: 'label_values(tianshu_cloud_info, province)' },
  ],
  rows: [
    {
      title: 'Clouds',
      panels: [
        { title: 'Clouds', description: 'Registered clouds matching the filters.', type: 'stat', unit: 'short', width: 6, queries: [{ expr: `sum(tianshu_clouds{${FLEET_FILTER}})`, instant: true }] },
        {
          title: 'Clouds not Ready',
          description: 'Clouds NotReady, Cordoned or Draining: they take no new placements.',
          type: 'stat',
          unit: 'short',
          width: 6,
          redAt: 1,
          queries: [{ expr: `sum(tianshu_clouds{condition!="Ready",${FLEET_FILTER}}) or vector(0)`, instant: true }],
        },
        {
          title: 'Clouds by condition',
          description: 'Registered clouds by condition over time.',
          type: 'timeseries',
          unit: 'short',
          width: 12,
          queries: [{ expr: `sum by (condition) (tianshu_clouds{${FLEET_FILTER}})`, legend: '{{condition}}' }],
        },
        {
          title: 'Clouds not Ready (list)',
          description: 'Each cloud whose condition is not Ready, with its tier, province and provider kind.',
          type: 'table',
          unit: 'short',
          width: 24,
          queries: [
            {
              expr: `(tianshu_cloud_condition{condition!="Ready"} == 1) * on(cloud) group_left(kind, tier, province) tianshu_cloud_info{${FLEET_FILTER}}`,
              instant: true,
            },
          ],
        },
      ],
    },
    {
      title: 'Capacity and allocation',
      panels: [
        {
          title: 'CPU capacity and allocation by tier',
          description: 'Sum of cloud CPU capacity and of CPU allocated to placements, per tier (millicores).',
          type: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `sum by (tier) (tianshu_cloud_capacity_cpu_millicores{${FLEET_FILTER}})`, legend: '{{tier}} capacity' },
            { expr: `sum by (tier) (tianshu_cloud_allocated_cpu_millicores{${FLEET_FILTER}})`, legend: '{{tier}} allocated' },
          ],
        },
        {
          title: 'Memory capacity and allocation by tier',
          description: 'Sum of cloud memory capacity and of memory allocated to placements, per tier.',
          type: 'timeseries',
          unit: 'mbytes',
          queries: [
            { expr: `sum by (tier) (tianshu_cloud_capacity_memory_mebibytes{${FLEET_FILTER}})`, legend: '{{tier}} capacity' },
            { expr: `sum by (tier) (tianshu_cloud_allocated_memory_mebibytes{${FLEET_FILTER}})`, legend: '{{tier}} allocated' },
          ],
        },
        {
          title: 'CPU allocation ratio by tier and province',
          description: 'Allocated ÷ capacity: how full each tier is in each province.',
          type: 'bargauge',
          unit: 'percentunit',
          queries: [
            {
              expr: `sum by (tier, province) (tianshu_cloud_allocated_cpu_millicores{${FLEET_FILTER}}) / sum by (tier, province) (tianshu_cloud_capacity_cpu_millicores{${FLEET_FILTER}})`,
              legend: '{{tier}} {{province}}',
              instant: true,
            },
          ],
        },
        {
          title: 'GPU and instance headroom by tier',
          description: 'Free GPUs and free instance slots (capacity − allocated) per tier.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `sum by (tier) (tianshu_cloud_capacity_gpus{${FLEET_FILTER}} - tianshu_cloud_allocated_gpus{${FLEET_FILTER}})`, legend: '{{tier}} GPUs' },
            {
              expr: `sum by (tier) (tianshu_cloud_capacity_instances{${FLEET_FILTER}} - tianshu_cloud_allocated_instances{${FLEET_FILTER}})`,
              legend: '{{tier}} instances',
            },
          ],
        },
      ],
    },
    {
      title: 'Headroom',
      panels: [
        {
          title: 'CPU headroom by tier and province',
          description: 'Free CPU (capacity − allocated) on Ready clouds, per tier and province (millicores).',
          type: 'bargauge',
          unit: 'short',
          queries: [
            {
              expr: `sum by (tier, province) ((tianshu_cloud_capacity_cpu_millicores{${FLEET_FILTER}} - tianshu_cloud_allocated_cpu_millicores{${FLEET_FILTER}}) * on(cloud) group_left() tianshu_cloud_condition{condition="Ready"})`,
              legend: '{{tier}} {{province}}',
              instant: true,
            },
          ],
        },
        {
          title: 'Memory headroom by tier and province',
          description: 'Free memory (capacity − allocated) on Ready clouds, per tier and province.',
          type: 'bargauge',
          unit: 'mbytes',
          queries: [
            {
              expr: `sum by (tier, province) ((tianshu_cloud_capacity_memory_mebibytes{${FLEET_FILTER}} - tianshu_cloud_allocated_memory_mebibytes{${FLEET_FILTER}}) * on(cloud) group_left() tianshu_cloud_condition{condition="Ready"})`,
              legend: '{{tier}} {{province}}',
              instant: true,
            },
          ],
        },
      ],
    },
    {
      title: 'Tenants and deployments',
      panels: [
        {
          title: 'Top tenants by CPU usage',
          description: 'The ten tenants using the most CPU (a tenant counts its descendants).',
          type: 'bargauge',
          unit: 'short',
          queries: [{ expr: 'topk(10, tianshu_tenant_usage_cpu_millicores{tier="all"})', legend: '{{tenant}}', instant: true }],
        },
        {
          title: 'Deployments by phase',
          description: 'Deployments per phase, as reported by the orchestration leader.',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: 'sum by (phase) (tianshu_deployments)', legend: '{{phase}}' }],
        },
      ],
    },
  ],
};

const TENANT = 'tenant=~"$tenant"';

/** Tenants and quotas: usage against limits, quota burn, requests refused for quota. */
export const TENANTS: DashboardSpec = {
  uid: 'tianshu-tenants',
  title: 'Tianshu / Tenants and quotas',
  description: 'Per-tenant usage against quota limits (overall and per tier), how fast quota is being consumed, and requests refused for quota.',
  variables: [{ name: 'tenant', label: 'Tenant', query: 'label_values(tianshu_tenant_usage_cpu_millicores, tenant)' }],
  rows: [
    {
      title: 'Usage against limits',
      panels: [
        {
          title: 'CPU usage vs limit',
          description: 'Overall CPU usage and quota limit of each selected tenant (millicores).',
          type: 'timeseries',
          unit: 'short',
          queries: [
            { expr: `tianshu_tenant_usage_cpu_millicores{${TENANT},tier="all"}`, legend: '{{tenant}} used' },
            { expr: `tianshu_tenant_quota_limit_cpu_millicores{${TENANT},tier="all"}`, legend: '{{tenant}} limit' },
          ],
        },
        {
          title: 'Memory usage vs limit',
          description: 'Overall memory usage and quota limit of each selected tenant.',
          type: 'timeseries',
          unit: 'mbytes',
          queries: [
            { expr: `tianshu_tenant_usage_memory_mebibytes{${TENANT},tier="all"}`, legend: '{{tenant}} used' },
            { expr: `tianshu_tenant_quota_limit_memory_mebibytes{${TENANT},tier="all"}`, legend: '{{tenant}} limit' },
          ],
        },
        {
          title: 'CPU quota used',
          description: 'Usage ÷ limit per tenant and tier (tier "all" is the overall quota). Alerts fire above 90% for 15 minutes.',
          type: 'bargauge',
          unit: 'percentunit',
          queries: [
            {
              expr: `tianshu_tenant_usage_cpu_millicores{${TENANT}} / on(tenant, tier) tianshu_tenant_quota_limit_cpu_millicores{${TENANT}}`,
              legend: '{{tenant}} ({{tier}})',
              instant: true,
            },
          ],
        },
        {
          title: 'Memory quota used',
          description: 'Usage ÷ limit per tenant and tier (tier "all" is the overall quota).',
          type: 'bargauge',
          unit: 'percentunit',
          queries: [
            {
              expr: `tianshu_tenant_usage_memory_mebibytes{${TENANT}} / on(tenant, tier) tianshu_tenant_quota_limit_memory_mebibytes{${TENANT}}`,
              legend: '{{tenant}} ({{tier}})',
              instant: true,
            },
          ],
        },
        {
          title: 'Tenants nearest their CPU limit',
          description: 'The ten tenant/tier quotas with the least CPU headroom (millicores; negative when a quota was lowered below usage).',
          type: 'table',
          unit: 'short',
          width: 24,
          queries: [{ expr: `bottomk(10, tianshu_tenant_quota_headroom_cpu_millicores{${TENANT}})`, instant: true }],
        },
      ],
    },
    {
      title: 'Burn and refusals',
      panels: [
        {
          title: 'Quota burn (CPU per hour)',
          description: 'How fast overall CPU usage grows, extrapolated to an hour from the last 30 minutes (millicores/hour).',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: `deriv(tianshu_tenant_usage_cpu_millicores{${TENANT},tier="all"}[30m]) * 3600`, legend: '{{tenant}}' }],
        },
        {
          title: 'Requests refused for quota',
          description: 'Placements refused because a tenant quota (or an ancestor’s) would be exceeded, per second by tier.',
          type: 'timeseries',
          unit: 'reqps',
          queries: [{ expr: `sum by (tier) (rate(tianshu_scheduling_unschedulable_total{reason="QUOTA_EXCEEDED"}[${RI}]))`, legend: '{{tier}}' }],
        },
        {
          title: 'Share of placements refused for quota',
          description: 'Requests refused for quota ÷ all placement decisions, by tier.',
          type: 'timeseries',
          unit: 'percentunit',
          queries: [
            {
              expr: `sum by (tier) (rate(tianshu_scheduling_unschedulable_total{reason="QUOTA_EXCEEDED"}[${RI}])) / sum by (tier) (rate(tianshu_scheduling_decisions_total[${RI}]))`,
              legend: '{{tier}}',
            },
          ],
        },
      ],
    },
  ],
};

/** Scheduler and providers: decisions, rejections, provider latency and errors, reconcile, failovers, API. */
export const SCHEDULER: DashboardSpec = {
  uid: 'tianshu-scheduler',
  title: 'Tianshu / Scheduler and providers',
  description: 'Placement decision rate, latency and rejections; provider latency and errors; reconcile queues and lag; failovers; the GraphQL API; the process.',
  variables: [],
  rows: [
    {
      title: 'Scheduling',
      panels: [
        {
          title: 'Decision rate by result',
          description: 'Placement decisions per second, scheduled or unschedulable (previews excluded).',
          type: 'timeseries',
          unit: 'ops',
          queries: [
            { expr: `sum by (result) (rate(tianshu_scheduling_decisions_total[${RI}]))`, legend: '{{result}}' },
            { expr: `sum(rate(tianshu_scheduling_previews_total[${RI}]))`, legend: 'previews' },
          ],
        },
        {
          title: 'Decision latency',
          description: 'p50 and p99 time to compute a placement decision.',
          type: 'timeseries',
          unit: 's',
          queries: [
            { expr: `histogram_quantile(0.5, sum by (le) (rate(tianshu_scheduling_duration_seconds_bucket{operation="place"}[${RI}])))`, legend: 'p50' },
            { expr: `histogram_quantile(0.99, sum by (le) (rate(tianshu_scheduling_duration_seconds_bucket{operation="place"}[${RI}])))`, legend: 'p99' },
          ],
        },
        {
          title: 'Rejections by reason',
          description: 'Candidate clouds rejected per second, by the filter’s reason code.',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: `sum by (reason) (rate(tianshu_scheduling_rejections_total[${RI}]))`, legend: '{{reason}}' }],
        },
        {
          title: 'Rejections by tier',
          description: 'Candidate clouds rejected per second, by the workload’s minimum tier.',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: `sum by (tier) (rate(tianshu_scheduling_rejections_total[${RI}]))`, legend: '{{tier}}' }],
        },
        {
          title: 'Unschedulable requests by reason',
          description: 'Requests that could not be placed, per second, by primary reason.',
          type: 'timeseries',
          unit: 'reqps',
          width: 24,
          queries: [{ expr: `sum by (reason) (rate(tianshu_scheduling_unschedulable_total[${RI}]))`, legend: '{{reason}}' }],
        },
      ],
    },
    {
      title: 'Providers',
      panels: [
        {
          title: 'Provider latency p99 by kind and operation',
          description: 'p99 duration of calls to clouds, by provider kind and operation.',
          type: 'timeseries',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, kind, operation) (rate(tianshu_provider_request_duration_seconds_bucket[${RI}])))`,
              legend: '{{kind}} {{operation}}',
            },
          ],
        },
        {
          title: 'Provider error ratio (worst clouds)',
          description: 'Failed ÷ all provider calls for the ten worst clouds (failed health probes count as errors).',
          type: 'timeseries',
          unit: 'percentunit',
          queries: [
            {
              expr: `topk(10, sum by (kind, cloud) (rate(tianshu_provider_errors_total[${RI}])) / sum by (kind, cloud) (rate(tianshu_provider_requests_total[${RI}])))`,
              legend: '{{kind}} {{cloud}}',
            },
          ],
        },
        {
          title: 'Provider errors by code and operation',
          description: 'Failed provider calls per second by error code and operation.',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: `sum by (code, operation) (rate(tianshu_provider_errors_total[${RI}]))`, legend: '{{code}} {{operation}}' }],
        },
        {
          title: 'Mean provider latency (slowest clouds)',
          description: 'Mean call duration of the ten slowest clouds.',
          type: 'timeseries',
          unit: 's',
          queries: [
            {
              expr: `topk(10, sum by (cloud) (rate(tianshu_provider_request_seconds_total[${RI}])) / sum by (cloud) (rate(tianshu_provider_requests_total[${RI}])))`,
              legend: '{{cloud}}',
            },
          ],
        },
        {
          title: 'Open circuit breakers',
          description: 'Clouds whose circuit breaker is open (calls are not attempted).',
          type: 'stat',
          unit: 'short',
          width: 6,
          redAt: 1,
          queries: [{ expr: 'count(tianshu_provider_circuit_state == 2) or vector(0)', instant: true }],
        },
        {
          title: 'Orchestration leader',
          description: 'Replicas holding the orchestration lease: must be exactly 1.',
          type: 'stat',
          unit: 'short',
          width: 6,
          queries: [{ expr: 'sum(tianshu_orchestrator_leader)', instant: true }],
        },
      ],
    },
    {
      title: 'Reconciliation and failover',
      panels: [
        {
          title: 'Reconcile lag (worst clouds)',
          description: 'Age of the oldest slice waiting to be reconciled, for the ten worst clouds.',
          type: 'timeseries',
          unit: 's',
          queries: [{ expr: 'topk(10, tianshu_reconcile_lag_seconds)', legend: '{{cloud}}' }],
        },
        {
          title: 'Reconcile queue depth',
          description: 'Slices waiting to be reconciled, over all clouds.',
          type: 'timeseries',
          unit: 'short',
          queries: [{ expr: 'sum(tianshu_reconcile_queue_depth)', legend: 'waiting' }],
        },
        {
          title: 'Failovers and drains',
          description: 'Deployments moved off failed (failover) or draining clouds in the last hour, by outcome.',
          type: 'timeseries',
          unit: 'short',
          queries: [
            { expr: 'sum by (outcome) (increase(tianshu_failovers_total[1h]))', legend: 'failover {{outcome}}' },
            { expr: 'sum by (outcome) (increase(tianshu_drains_total[1h]))', legend: 'drain {{outcome}}' },
          ],
        },
        {
          title: 'Audit chain valid',
          description: 'Result of the last audit hash-chain verification: 1 valid, 0 broken.',
          type: 'stat',
          unit: 'short',
          queries: [{ expr: 'min(tianshu_audit_chain_valid)', instant: true }],
        },
      ],
    },
    {
      title: 'API and process',
      panels: [
        {
          title: 'GraphQL requests by operation and code',
          description: 'GraphQL requests per second by root field(s) and result code.',
          type: 'timeseries',
          unit: 'reqps',
          queries: [{ expr: `sum by (operation, code) (rate(tianshu_graphql_request_duration_seconds_count[${RI}]))`, legend: '{{operation}} {{code}}' }],
        },
        {
          title: 'GraphQL latency p99 by operation',
          description: 'p99 GraphQL request duration by root field(s).',
          type: 'timeseries',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.99, sum by (le, operation) (rate(tianshu_graphql_request_duration_seconds_bucket[${RI}])))`,
              legend: '{{operation}}',
            },
          ],
        },
        {
          title: 'Rate-limited requests',
          description: 'Requests refused with 429 per second, by route.',
          type: 'timeseries',
          unit: 'reqps',
          queries: [{ expr: `sum by (route) (rate(tianshu_http_rate_limited_requests_total[${RI}]))`, legend: '{{route}}' }],
        },
        {
          title: 'Event-loop lag and memory',
          description: 'Node.js event-loop lag p99 and resident memory of each Tianshu process.',
          type: 'timeseries',
          unit: 's',
          queries: [
            { expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds)', legend: '{{instance}} loop lag p99' },
            { expr: 'max by (instance) (process_resident_memory_bytes) / 1e9', legend: '{{instance}} RSS (GB)' },
          ],
        },
      ],
    },
  ],
};

/** Every dashboard, by file name under `dashboards/`. */
export const DASHBOARDS: Readonly<Record<string, DashboardSpec>> = {
  'fleet.json': FLEET,
  'tenants.json': TENANTS,
  'scheduler.json': SCHEDULER,
};
