/**
 * A throwaway moto server (AWS API mock) for EC2 provider tests.
 *
 * @packageDocumentation
 */
import { join } from 'node:path';
import { mustLocate } from './components.js';
import { freePort } from './ports.js';
import { makeTempDir, spawnManaged, waitFor } from './proc.js';
import type { ManagedProcess } from './proc.js';

/** A running moto server. */
export interface MotoInstance {
  /** `http://127.0.0.1:<port>`, for the AWS SDK's `endpoint` (any region, dummy credentials). */
  endpoint: string;
  /** Forgets every mocked resource (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Kills the server and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `moto_server` on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<MotoInstance> {
  const bin = mustLocate('moto_server');
  const tmp = makeTempDir('moto');
  const logPath = join(tmp.dir, 'moto.log');
  let proc: ManagedProcess | undefined;
  let endpoint = '';
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    const candidate = spawnManaged('moto_server', bin, ['-H', '127.0.0.1', '-p', String(port)], {
      logPath,
      cwd: tmp.dir,
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    try {
      await waitFor(
        async () => {
          const res = await fetch(`${endpoint}/moto-api/data.json`);
          await res.arrayBuffer();
          return res.ok;
        },
        { what: 'moto_server', proc: candidate, timeoutMs: 60_000, intervalMs: 100 },
      );
      proc = candidate;
    } catch (err) {
      lastError = err;
      await candidate.stop('SIGKILL');
    }
  }
  if (proc === undefined) {
    tmp.remove();
    throw lastError instanceof Error ? lastError : new Error('moto_server did not start');
  }
  const running = proc;
  let stopped = false;
  return {
    endpoint,
    async reset(): Promise<void> {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await running.stop('SIGTERM', 5_000);
      tmp.remove();
    },
  };
}
