/**
 * The metric reference table of the Monitoring docs, generated from the registry itself so the
 * docs cannot list a metric the service does not export (or miss one it does).
 *
 * @packageDocumentation
 */
import type { Registry } from 'prom-client';

/** One metric family as documented. */
export interface MetricDoc {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
  readonly help: string;
}

/** Every metric family in `registry`, sorted by name, with its type, label names and help. */
export function describeMetrics(registry: Registry): MetricDoc[] {
  return registry
    .getMetricsAsArray()
    .map((m) => {
      // prom-client keeps these on every metric instance; its typings only expose them partly.
      const fields = m as unknown as { name: string; help: string; type: string; labelNames?: readonly string[] };
      return { name: fields.name, type: String(fields.type), labels: [...(fields.labelNames ?? [])], help: fields.help };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The docs' Markdown table of {@link describeMetrics}. */
export function metricsTable(registry: Registry): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = describeMetrics(registry).map(
    (m) => `| \`${m.name}\` | ${m.type} | ${m.labels.length === 0 ? '—' : m.labels.map((l) => `\`${l}\``).join(', ')} | ${escape(m.help)} |`,
  );
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
