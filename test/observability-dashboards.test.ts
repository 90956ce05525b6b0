import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARDS, renderDashboard } from '../observability/dashboards.js';
import { createMetrics } from '../observability/metrics.js';
import { metricsTable } from '../observability/metrics-doc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const update = (name: string): boolean => process.env[name] === '1';

/** Every metric name a PromQL expression references (histogram series mapped to their family). */
export function metricNamesIn(expr: string, families: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(/\b((?:tianshu|nodejs|process)_[a-zA-Z0-9_]+)\b/g)) {
    const name = m[1] ?? '';
    const family = name.replace(/_(bucket|sum|count)$/, '');
    out.add(!families.has(name) && families.has(family) ? family : name);
  }
  return [...out];
}

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource: { uid: string } }[];
}

const dashboards = Object.entries(DASHBOARDS).map(([file, spec]) => ({ file, json: renderDashboard(spec) }));
const families = new Set(createMetrics().metricNames());

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

describe('dashboards', () => {
  it.each(dashboards)('dashboards/$file is up to date with observability/dashboards.ts', ({ file, json }) => {
    const path = join(root, 'dashboards', file);
    const text = `${JSON.stringify(json, null, 2)}\n`;
    if (update('UPDATE_DASHBOARDS')) writeFileSync(path, text);
    expect(readFileSync(path, 'utf8'), 'run UPDATE_DASHBOARDS=1 npx vitest run test/observability-dashboards').toBe(text);
  });

  it.each(dashboards)('$file: schemaVersion ≥ 39, a prometheus datasource variable used by every panel', ({ json }) => {
    expect(json.schemaVersion).toBeGreaterThanOrEqual(39);
    const vars = (json.templating as { list: { name: string; type: string; query: unknown }[] }).list;
    expect(vars.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const panels = (json.panels as Panel[]).filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(3);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource.uid, p.title).toBe('${datasource}');
    }
  });

  it.each(dashboards)('$file: every query uses only metrics the service exports', ({ json }) => {
    for (const p of (json.panels as Panel[]).filter((x) => x.type !== 'row')) {
      for (const t of p.targets ?? []) {
        const names = metricNamesIn(t.expr, families);
        expect(names.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of names) expect(families.has(n), `${p.title}: ${n} is not exported`).toBe(true);
      }
    }
  });
});

describe('dashboards/alerts.yaml', () => {
  const rules = (parse(readFileSync(join(root, 'dashboards', 'alerts.yaml'), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);

  it('covers the required alerts, each with a severity and a summary and description', () => {
    const names = rules.map((r) => r.alert);
    for (const required of [
      'TianshuCloudNotReady',
      'TianshuTenantQuotaNearlyExhausted',
      'TianshuReconcileLagHigh',
      'TianshuProviderErrorRatioHigh',
      'TianshuSchedulingLatencyHigh',
      'TianshuNoLeader',
      'TianshuAuditChainBroken',
    ]) {
      expect(names).toContain(required);
    }
    for (const r of rules) {
      expect(['warning', 'critical'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
    expect(rules.find((r) => r.alert === 'TianshuCloudNotReady')?.for).toBe('5m');
    expect(rules.find((r) => r.alert === 'TianshuTenantQuotaNearlyExhausted')?.for).toBe('15m');
  });

  it('uses only metrics the service exports', () => {
    for (const r of rules) {
      const names = metricNamesIn(r.expr, families);
      expect(names.length, r.alert).toBeGreaterThan(0);
      for (const n of names) expect(families.has(n), `${r.alert}: ${n} is not exported`).toBe(true);
    }
  });
});

describe('README.md (Monitoring)', () => {
  it('lists every metric the registry holds (regenerate with UPDATE_METRICS_DOC=1)', () => {
    const path = join(root, 'README.md');
    const doc = readFileSync(path, 'utf8');
    const begin = '<!-- metrics-table:begin -->\n';
    const end = '\n<!-- metrics-table:end -->';
    const i = doc.indexOf(begin);
    const j = doc.indexOf(end);
    expect(i, 'README has the metrics-table markers').toBeGreaterThanOrEqual(0);
    const table = metricsTable(createMetrics().registry);
    if (update('UPDATE_METRICS_DOC')) writeFileSync(path, doc.slice(0, i + begin.length) + table + doc.slice(j));
    expect(readFileSync(path, 'utf8').slice(i + begin.length, j)).toBe(table);
  });
});
