/**
 * Gauges computed at scrape time from a state source, with a fast text path.
 *
 * Fleet and quota gauges describe state the store already holds in memory; pushing every change
 * into prom-client's label-hashed maps would cost work on every mutation and leave stale series
 * behind when a cloud or tenant goes away. Instead each {@link ViewGauge} derives its values from
 * the current view when it is scraped, and {@link SourceCache} shares one view between all gauges
 * of a scrape (and between scrapes within its time-to-live).
 *
 * At 1,000 clouds and 2,000 tenants these gauges hold tens of thousands of series, and
 * prom-client's generic formatter (an `Object.entries` and a regex escape per label per line) is
 * the dominant cost of a scrape. Label sets are therefore {@link LabelSet}s, escaped and joined
 * once and shared between every gauge that labels by the same cloud or tenant, and
 * {@link ViewGauge.text} writes the exposition lines directly.
 *
 * @packageDocumentation
 */
import { Counter, Gauge } from 'prom-client';
import type { IncreaseDataWithExemplar, LabelValues, MetricObjectWithValues, MetricType, MetricValue, Registry } from 'prom-client';

/** A function returning the current state, synchronously or not. */
export type Source<V> = () => V | Promise<V>;

/** Options of {@link SourceCache}. */
export interface SourceCacheOptions {
  /** How long a fetched view is reused, in milliseconds. */
  readonly ttlMs: number;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** Called when the source throws; the last good view keeps being served. */
  readonly onError: (err: unknown) => void;
}

/**
 * One state source with a short-lived cache: concurrent scrapes share one in-flight fetch, and a
 * failing source serves the last good view rather than emptying the dashboards.
 */
export class SourceCache<V> {
  private source: Source<V> | null = null;
  private view: V | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<V | undefined> | null = null;

  constructor(private readonly options: SourceCacheOptions) {}

  /** Replaces the source (null removes it) and drops the cached view. */
  set(source: Source<V> | null): void {
    this.source = source;
    this.view = undefined;
    this.fetchedAt = Number.NEGATIVE_INFINITY;
  }

  /** The current view, fetched if the cached one is older than the time-to-live; undefined without a source. */
  current(): Promise<V | undefined> {
    const source = this.source;
    if (source === null) return Promise.resolve(undefined);
    if (this.options.now() - this.fetchedAt < this.options.ttlMs) return Promise.resolve(this.view);
    if (this.inFlight !== null) return this.inFlight;
    const fetching = (async (): Promise<V | undefined> => {
      try {
        const view = await source();
        // A source replaced while we were fetching must not be overwritten by the old one's answer.
        if (this.source === source) {
          this.view = view;
          this.fetchedAt = this.options.now();
        }
        return view;
      } catch (err) {
        this.options.onError(err);
        return this.view;
      } finally {
        this.inFlight = null;
      }
    })();
    this.inFlight = fetching;
    return fetching;
  }
}

/** A label set with its exposition text (`{a="x",b="y"}`, or empty), built once and shared. */
export interface LabelSet<T extends string> {
  readonly record: Readonly<Record<T, string>>;
  readonly text: string;
}

/** Escapes a label value for the text exposition format. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

/** Builds a {@link LabelSet}; label names are ours and need no escaping. */
export function labelSet<T extends string>(record: Readonly<Record<T, string>>): LabelSet<T> {
  const parts: string[] = [];
  for (const [name, value] of Object.entries<string>(record)) parts.push(`${name}="${escapeLabelValue(value)}"`);
  return { record, text: parts.length === 0 ? '' : `{${parts.join(',')}}` };
}

/** A number as the exposition format writes it. */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/** Receives one sample of a view gauge. */
export type Emit<T extends string> = (labels: LabelSet<T>, value: number) => void;

/** Configuration of a {@link ViewGauge}. */
export interface ViewGaugeConfig<V, T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly registry: Registry;
  readonly cache: SourceCache<V>;
  /** Emits the gauge's samples for a view. */
  readonly compute: (view: V, emit: Emit<T>) => void;
}

const noCollect = (): void => undefined;

/**
 * A gauge whose values are derived from a {@link SourceCache} view at scrape time. It is a real
 * prom-client `Gauge`, so it sits in the registry, the metric list and the docs like any other and
 * `registry.metrics()` still renders it; {@link ViewGauge.text} is the fast path the service's
 * `/metrics` uses, writing lines straight from the view without intermediate objects.
 */
export class ViewGauge<V, T extends string> extends Gauge<T> {
  private readonly config: ViewGaugeConfig<V, T>;
  private readonly header: string;
  private memoView: V | undefined;
  private memoText = '';

  constructor(config: ViewGaugeConfig<V, T>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [config.registry] });
    this.config = config;
    const help = config.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
    this.header = `# HELP ${config.name} ${help}\n# TYPE ${config.name} gauge`;
  }

  /** The family's exposition text: HELP, TYPE and one line per sample, without a trailing newline. */
  async text(): Promise<string> {
    const view = await this.config.cache.current();
    if (view === undefined) return this.header;
    if (view !== this.memoView) {
      const lines = [this.header];
      const name = this.config.name;
      this.config.compute(view, (labels, value) => {
        lines.push(`${name}${labels.text} ${formatValue(value)}`);
      });
      this.memoText = lines.join('\n');
      this.memoView = view;
    }
    return this.memoText;
  }

  /** The values in prom-client's shape, for `registry.metrics()` and `getMetricsAsJSON()`. */
  override async get(): Promise<MetricObjectWithValues<MetricValue<T>>> {
    const view = await this.config.cache.current();
    const values: MetricValue<T>[] = [];
    if (view !== undefined) {
      this.config.compute(view, (labels, value) => {
        values.push({ labels: { ...labels.record }, value });
      });
    }
    // prom-client's typings declare `type` as an enum, but the registry writes it verbatim into
    // `# TYPE` lines and its own metrics store the string; the string is what must go out.
    return { name: this.config.name, help: this.config.help, type: 'gauge' as unknown as MetricType, values, aggregator: 'sum', collect: noCollect };
  }
}

/**
 * A map that forgets what a view no longer uses: {@link Generations.rotate} at each new view,
 * {@link Generations.get} for each key the view has; entries unused for one whole view are dropped.
 */
export class Generations<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();

  /** Starts a new generation. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** The entry for `key` if `valid` accepts it, else a fresh one from `make`. */
  get(key: string, valid: (v: V) => boolean, make: () => V): V {
    let v = this.current.get(key);
    if (v !== undefined && valid(v)) return v;
    v = this.previous.get(key);
    if (v === undefined || !valid(v)) v = make();
    this.current.set(key, v);
    return v;
  }
}

/** Configuration of a {@link FastCounter}. */
export interface FastCounterConfig<T extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly registry: Registry;
}

/**
 * A counter keyed by pre-formatted label sets. Per-cloud counters (provider calls on 1,000 clouds)
 * are among the largest families of a scrape; keeping each series' label text ready makes them
 * as cheap to render as the view gauges. It is a prom-client `Counter` for the registry, and
 * `inc` (label record, optional amount) works as usual.
 */
export class FastCounter<T extends string> extends Counter<T> {
  private readonly config: FastCounterConfig<T>;
  private readonly series = new Map<string, { labels: LabelSet<T>; value: number }>();
  private readonly header: string;

  constructor(config: FastCounterConfig<T>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: [config.registry] });
    // prom-client's Counter constructor assigns `inc` as an own property (its exemplar switch),
    // which would shadow the override below and count into a store this class never renders.
    Reflect.deleteProperty(this, 'inc');
    this.config = config;
    this.header = `# HELP ${config.name} ${config.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${config.name} counter`;
  }

  /** Adds `amount` (default 1, must not be negative) to the series with `labels`. */
  add(labels: Readonly<Record<T, string>>, amount = 1): void {
    if (!(amount >= 0)) throw new Error(`${this.config.name}: a counter cannot decrease (got ${amount})`);
    let key = '';
    for (const name of this.config.labelNames) key += `${labels[name]}\u0000`;
    const entry = this.series.get(key);
    if (entry === undefined) {
      const record = {} as Record<T, string>;
      for (const name of this.config.labelNames) record[name] = labels[name];
      this.series.set(key, { labels: labelSet(record), value: amount });
    } else entry.value += amount;
  }

  /** prom-client's `inc(labels, value?)`, routed to {@link FastCounter.add}. */
  override inc(labels: LabelValues<T>, value?: number): void;
  /** prom-client's `inc(value?)` for an unlabelled counter. */
  override inc(value?: number): void;
  /** Exemplars are not enabled; the object's fields are read as labels, as prom-client does then. */
  override inc(incData: IncreaseDataWithExemplar<T>): void;
  override inc(labelsOrValue?: LabelValues<T> | IncreaseDataWithExemplar<T> | number, value?: number): void {
    if (typeof labelsOrValue === 'number' || labelsOrValue === undefined) {
      this.add({} as Record<T, string>, labelsOrValue ?? 1);
      return;
    }
    const labels = labelsOrValue as LabelValues<T>;
    const record = {} as Record<T, string>;
    for (const name of this.config.labelNames) record[name] = String(labels[name] ?? '');
    this.add(record, value ?? 1);
  }

  /** Forgets every series. */
  override reset(): void {
    // prom-client's constructor calls reset() before this subclass's fields are initialised.
    if ((this.series as Map<string, unknown> | undefined) !== undefined) this.series.clear();
  }

  /** The family's exposition text, without a trailing newline. */
  text(): string {
    const lines = [this.header];
    const name = this.config.name;
    for (const s of this.series.values()) lines.push(`${name}${s.labels.text} ${formatValue(s.value)}`);
    return lines.join('\n');
  }

  /** The values in prom-client's shape, for `registry.metrics()` and `getMetricsAsJSON()`. */
  override async get(): Promise<MetricObjectWithValues<MetricValue<T>>> {
    await Promise.resolve();
    const values = [...this.series.values()].map((s) => ({ labels: { ...s.labels.record } as MetricValue<T>['labels'], value: s.value }));
    // See ViewGauge.get on the `type` cast.
    return { name: this.config.name, help: this.config.help, type: 'counter' as unknown as MetricType, values, aggregator: 'sum', collect: noCollect };
  }
}
