/**
 * A throwaway Prometheus server scraping the targets a test gives it.
 *
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { mustLocate } from './components.js';
import { freePort } from './ports.js';
import { makeTempDir, spawnManaged, waitFor } from './proc.js';
import type { ManagedProcess } from './proc.js';

/** Options for {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /**
   * Targets to scrape: `host:port` (path `/metrics`, http) or a full URL such as
   * `http://127.0.0.1:8080/internal/metrics`.
   */
  scrapeTargets: string[];
  /** Scrape (and rule evaluation) interval; default 1000 ms. */
  scrapeIntervalMs?: number;
  /** Rule files (absolute paths) to load. */
  ruleFiles?: string[];
}

/** A running Prometheus server. */
export interface PrometheusInstance {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Kills the server and removes its config and TSDB. Idempotent. */
  stop(): Promise<void>;
}

/** Absolute path of `promtool` (for `promtool check rules` / `test rules`). */
export function promtoolPath(): string {
  return mustLocate('promtool');
}

interface ScrapeConfig {
  job_name: string;
  scheme: string;
  metrics_path: string;
  static_configs: { targets: string[] }[];
}

function scrapeConfigs(targets: readonly string[]): ScrapeConfig[] {
  return targets.map((target, i) => {
    const u = new URL(target.includes('://') ? target : `http://${target}/metrics`);
    return {
      job_name: `target${i}`,
      scheme: u.protocol.replace(/:$/, ''),
      metrics_path: u.pathname === '/' ? '/metrics' : u.pathname,
      static_configs: [{ targets: [u.host] }],
    };
  });
}

/**
 * Writes a config for `opts` to a temp dir and starts `prometheus` on a free loopback port
 * (lifecycle API enabled), resolving once `/-/ready` answers.
 */
export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusInstance> {
  const bin = mustLocate('prometheus');
  const tmp = makeTempDir('prom');
  const interval = `${opts.scrapeIntervalMs ?? 1000}ms`;
  const configPath = join(tmp.dir, 'prometheus.yml');
  writeFileSync(
    configPath,
    stringify({
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: opts.ruleFiles ?? [],
      scrape_configs: scrapeConfigs(opts.scrapeTargets),
    }),
  );
  const logPath = join(tmp.dir, 'prometheus.log');
  let proc: ManagedProcess | undefined;
  let url = '';
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const candidate = spawnManaged(
      'prometheus',
      bin,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${join(tmp.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      { logPath, cwd: tmp.dir },
    );
    try {
      await waitFor(
        async () => {
          const res = await fetch(`${url}/-/ready`);
          await res.arrayBuffer();
          return res.ok;
        },
        { what: 'prometheus', proc: candidate, timeoutMs: 60_000, intervalMs: 100 },
      );
      proc = candidate;
    } catch (err) {
      lastError = err;
      await candidate.stop('SIGKILL');
    }
  }
  if (proc === undefined) {
    tmp.remove();
    throw lastError instanceof Error ? lastError : new Error('prometheus did not start');
  }
  const running = proc;
  let stopped = false;
  return {
    url,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await running.stop('SIGTERM', 10_000);
      tmp.remove();
    },
  };
}
