/**
 * A throwaway Kubernetes control plane for tests: etcd plus kube-apiserver on loopback, token
 * auth (admin in `system:masters`), RBAC, self-signed serving certs, and a kubeconfig with a
 * `tianshu-test` context. There is no kubelet, scheduler or controller-manager: objects are
 * stored and validated, Deployments never get pods.
 *
 * @packageDocumentation
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { mustLocate } from './components.js';
import { freePorts } from './ports.js';
import { makeTempDir, spawnManaged, waitFor } from './proc.js';
import type { ManagedProcess } from './proc.js';

/** A running etcd + kube-apiserver pair. */
export interface KubeInstance {
  /** `https://127.0.0.1:<port>` (self-signed certificate: skip verification). */
  server: string;
  /** Kubeconfig with user `tianshu-admin` (token), cluster `tianshu-test`, current context `tianshu-test`. */
  kubeconfigPath: string;
  /** Bearer token of a `system:masters` user. */
  token: string;
  /** etcd client URL, `http://127.0.0.1:<port>`. */
  etcdEndpoint: string;
  /** Temp dir holding data, certs, kubeconfig and the `etcd.log` / `kube-apiserver.log` files. */
  dir: string;
  /** Stops the apiserver and etcd and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Stops only kube-apiserver (SIGTERM; SIGKILL when `hard`), keeping etcd and the ports. */
  stopApiserver(opts?: { hard?: boolean }): Promise<void>;
  /** Starts kube-apiserver again on the same port and etcd; resolves when `/readyz` is ok. */
  startApiserver(): Promise<void>;
}

/** Response of {@link kubeRequest}. */
export interface KubeResponse {
  status: number;
  /** Parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

/**
 * One HTTPS request to an apiserver with a bearer token, skipping certificate verification
 * (Node's global `fetch` cannot, without an undici dispatcher). `body` is sent as JSON.
 */
export function kubeRequest(server: string, token: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<KubeResponse> {
  const url = new URL(path, server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        rejectUnauthorized: false,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text) as unknown;
          } catch {
            // not JSON (e.g. /readyz prints "ok")
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Options for {@link startKube}. */
export interface StartKubeOptions {
  /** Extra kube-apiserver flags (`--name=value`), appended last so they win. */
  apiserverArgs?: string[];
  /** Readiness timeout for each component (default 120 s; a cold apiserver on 2 cores is slow). */
  timeoutMs?: number;
}

/** Starts etcd and kube-apiserver on free loopback ports and waits for `/readyz`. */
export async function startKube(opts: StartKubeOptions = {}): Promise<KubeInstance> {
  const apiserverBin = mustLocate('kube-apiserver');
  const etcdBin = mustLocate('etcd');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const tmp = makeTempDir('kube');
  const dir = tmp.dir;
  const [clientPort, peerPort, securePort] = (await freePorts(3)) as [number, number, number];
  const etcdEndpoint = `http://127.0.0.1:${clientPort}`;
  const server = `https://127.0.0.1:${securePort}`;
  const token = randomBytes(24).toString('hex');

  let etcd: ManagedProcess | undefined;
  let apiserver: ManagedProcess | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await apiserver?.stop('SIGTERM', 10_000);
    await etcd?.stop('SIGTERM', 10_000);
    tmp.remove();
  };

  try {
    // etcd: single member, loopback only. Throwaway data, so skip fsync for speed.
    const peer = `http://127.0.0.1:${peerPort}`;
    etcd = spawnManaged(
      'etcd',
      etcdBin,
      [
        '--name=rig',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=${etcdEndpoint}`,
        `--advertise-client-urls=${etcdEndpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=rig=${peer}`,
        '--initial-cluster-state=new',
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      { logPath: join(dir, 'etcd.log'), cwd: dir },
    );
    const etcdProc = etcd;
    await waitFor(
      async () => {
        const res = await fetch(`${etcdEndpoint}/health`);
        const body = (await res.json()) as { health?: string };
        return res.ok && body.health === 'true';
      },
      { what: 'etcd', proc: etcdProc, timeoutMs, intervalMs: 100 },
    );

    // Credentials: static admin token, service-account signing key pair, generated serving certs.
    writeFileSync(join(dir, 'tokens.csv'), `${token},tianshu-admin,tianshu-admin,"system:masters"\n`, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(join(dir, 'sa.pub'), publicKey);
    writeFileSync(join(dir, 'sa.key'), privateKey, { mode: 0o600 });
    mkdirSync(join(dir, 'certs'), { recursive: true });

    const args = [
      `--etcd-servers=${etcdEndpoint}`,
      `--secure-port=${securePort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=Node,RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--profiling=false',
      '--v=1',
      ...(opts.apiserverArgs ?? []),
    ];
    const apiserverLog = join(dir, 'kube-apiserver.log');
    const startApiserver = async (): Promise<void> => {
      if (apiserver?.isRunning()) throw new Error('kube-apiserver is already running');
      const proc = spawnManaged('kube-apiserver', apiserverBin, args, { logPath: apiserverLog, cwd: dir });
      apiserver = proc;
      await waitFor(
        async () => {
          const res = await kubeRequest(server, token, 'GET', '/readyz', undefined, 5_000);
          return res.status === 200;
        },
        { what: 'kube-apiserver /readyz', proc, timeoutMs, intervalMs: 250 },
      );
    };
    await startApiserver();

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'tianshu-test', cluster: { server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'tianshu-admin', user: { token } }],
        contexts: [{ name: 'tianshu-test', context: { cluster: 'tianshu-test', user: 'tianshu-admin', namespace: 'default' } }],
        'current-context': 'tianshu-test',
        preferences: {},
      }),
      { mode: 0o600 },
    );

    return {
      server,
      kubeconfigPath,
      token,
      etcdEndpoint,
      dir,
      stop,
      async stopApiserver(o: { hard?: boolean } = {}): Promise<void> {
        await apiserver?.stop(o.hard ? 'SIGKILL' : 'SIGTERM', 15_000);
      },
      startApiserver,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
