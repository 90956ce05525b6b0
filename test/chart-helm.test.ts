/**
 * The Helm chart against the real tools: `helm lint` and `helm template` (helm built from the
 * Go module proxy by the rig), the values schema refusing bad values, and every rendered object
 * accepted by a real kube-apiserver with server-side dry-run and strict field validation.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { applyEnvOverrides, parseConfigText, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { describeWithComponents, KUBE_COMPONENTS, locate } from './rig/components.js';
import { kubeRequest, startKube } from './rig/kube.js';
import type { KubeInstance } from './rig/kube.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chartDir = join(root, 'charts', 'tianshu');
const productionValues = join(chartDir, 'examples', 'production.yaml');
const release = 'tianshu';
const namespace = 'tianshu-chart-test';

/** A rendered Kubernetes object, loosely typed: tests reach into specs by known paths. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  livenessProbe: { httpGet: { path: string; port: string | number } };
  readinessProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface DeploymentObject extends KubeObject {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext: Record<string, unknown>;
        containers: Container[];
        volumes: { name: string; emptyDir?: Record<string, unknown>; configMap?: { name: string } }[];
      };
    };
  };
}

/** Result of one helm run. */
interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let helmHome: string | undefined;

/** Runs the rig's helm with a throwaway HOME so the user's helm config is neither read nor written. */
function helm(...args: string[]): HelmResult {
  const bin = locate('helm');
  if (bin === undefined) throw new Error('helm is not provisioned');
  helmHome ??= mkdtempSync(join(tmpdir(), 'tianshu-helm-'));
  const res = spawnSync(bin, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: helmHome,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** `helm template` of the chart into {@link namespace}; throws with helm's stderr on failure. */
function render(...extra: string[]): KubeObject[] {
  const res = helm('template', release, chartDir, '--namespace', namespace, ...extra);
  if (res.status !== 0) throw new Error(`helm template ${extra.join(' ')} failed:\n${res.stderr}`);
  return parseAllDocuments(res.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

/** Writes a values file for one test and returns its path. */
function valuesFile(dir: string, name: string, values: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof values === 'string' ? values : stringify(values));
  return path;
}

function only<T extends KubeObject>(objects: KubeObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.metadata.name), `exactly one ${kind}`).toHaveLength(1);
  return found[0] as T;
}

function kinds(objects: KubeObject[]): string[] {
  return objects.map((o) => o.kind).sort();
}

/** The environment the container would see: literal values, and Secret values decoded. */
function podEnv(objs: KubeObject[]): Record<string, string> {
  const secrets = new Map(objs.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, (o as KubeObject & { data: Record<string, string> }).data]));
  const env: Record<string, string> = {};
  for (const e of only<DeploymentObject>(objs, 'Deployment').spec.template.spec.containers[0]?.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref !== undefined) {
      const data = secrets.get(ref.name);
      // a Secret the operator manages (e.g. tianshu-db): stand in a plausible value
      env[e.name] = data === undefined ? 'postgres://tianshu:pw@postgres.db.svc:5432/tianshu' : Buffer.from(data[ref.key] ?? '', 'base64').toString();
    }
  }
  return env;
}

/** Loads a rendered config.yaml with the service's own loader, as the pod would (env overrides applied). */
function loadRendered(objs: KubeObject[]): Config {
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === release) as (KubeObject & { data: Record<string, string> }) | undefined;
  return validateConfig(applyEnvOverrides(parseConfigText(cm?.data['config.yaml'] ?? '', '/etc/tianshu/config.yaml'), podEnv(objs)));
}


const dashboardFiles = readdirSync(join(chartDir, 'files')).filter((f) => f.endsWith('.json'));
const hasAlerts = readdirSync(join(chartDir, 'files')).includes('alerts.yaml');
/**
 * The production example turns the dashboards and the PrometheusRule on; the chart refuses to
 * render them while it ships none (chart-files.test.ts pins files/ to dashboards/). Until the
 * observability work lands they are switched off here, and the refusal itself is tested.
 */
const production = ['-f', productionValues, ...(dashboardFiles.length > 0 ? [] : ['--set', 'dashboards.enabled=false']), ...(hasAlerts ? [] : ['--set', 'prometheusRule.enabled=false'])];
if (dashboardFiles.length === 0 || !hasAlerts) console.warn('[chart] charts/tianshu/files/ holds no dashboards or alert rules yet: the production example is rendered without them');

afterAll(() => {
  if (helmHome !== undefined) rmSync(helmHome, { recursive: true, force: true });
});

describeWithComponents(['helm'], 'chart: helm lint and template', () => {
  let scratch: string;
  let defaults: KubeObject[];
  let productionObjects: KubeObject[];

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tianshu-chart-'));
    defaults = render();
    productionObjects = render(...production);
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes helm lint --strict with the default values and with the production example', () => {
    for (const extra of [[], production]) {
      const res = helm('lint', '--strict', chartDir, ...extra);
      expect(res.status, `helm lint ${extra.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
      expect(res.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('packages with its dashboards, alert rules and example, and the package renders the same', () => {
    const pkg = helm('package', chartDir, '--destination', scratch);
    expect(pkg.status, pkg.stderr).toBe(0);
    const tgz = join(scratch, 'tianshu-0.1.0.tgz');
    const res = helm('template', release, tgz, '--namespace', namespace, ...production);
    expect(res.status, res.stderr).toBe(0);
    const fromPackage = parseAllDocuments(res.stdout).map((d) => d.toJS() as KubeObject | null);
    expect(fromPackage.filter((o) => o !== null)).toEqual(productionObjects);
    const shipped = spawnSync('tar', ['tzf', tgz], { encoding: 'utf8' }).stdout.split('\n');
    expect(shipped).toContain('tianshu/examples/production.yaml');
    expect(shipped).not.toContain('tianshu/files/.gitkeep');
  });

  it('renders the default install: one SQLite replica, hardened, probed, with RBAC', () => {
    expect(kinds(defaults)).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'].sort(),
    );
    for (const o of defaults) {
      expect(o.metadata.labels?.['app.kubernetes.io/name']).toBe('tianshu');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(release);
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
      expect(o.metadata.labels?.['app.kubernetes.io/version']).toBe('0.1.0');
    }

    const deploy = only<DeploymentObject>(defaults, 'Deployment');
    expect(deploy.spec.replicas).toBe(1);
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    const [c] = pod.containers;
    expect(c).toBeDefined();
    if (c === undefined) return;
    expect(c.image).toBe('ghcr.io/tianshu/tianshu:0.1.0');
    expect(c.command).toBeUndefined(); // the image's ENTRYPOINT runs
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 4000, protocol: 'TCP' }]);
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    // writable paths on a read-only root: /tmp and the data dir are emptyDirs, config read-only
    const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m]));
    expect(mounts['/tmp']?.name).toBe('tmp');
    expect(mounts['/var/lib/tianshu']?.name).toBe('data');
    expect(mounts['/etc/tianshu']).toMatchObject({ name: 'config', readOnly: true });
    const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
    expect(volumes.tmp?.emptyDir).toBeDefined();
    expect(volumes.data?.emptyDir).toBeDefined();
    // SQLite: no database URL and no Secret at all
    expect(c.env?.map((e) => e.name)).not.toContain('TIANSHU_DATABASE_URL');
    expect(defaults.some((o) => o.kind === 'Secret')).toBe(false);

    const annotations = deploy.spec.template.metadata.annotations;
    expect(annotations['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
    expect(annotations['checksum/secret']).toMatch(/^[a-f0-9]{64}$/);

    const pdb = only<KubeObject & { spec: Record<string, unknown> }>(defaults, 'PodDisruptionBudget');
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'tianshu', 'app.kubernetes.io/instance': release } } });
  });

  it('renders a configuration the service accepts: listening on all interfaces, data in the volume', () => {
    const cm = only<KubeObject & { data: Record<string, string> }>(defaults, 'ConfigMap');
    const config = parse(cm.data['config.yaml'] ?? '') as Record<string, unknown>;
    expect(config).toMatchObject({ listen: { host: '0.0.0.0', port: 4000 }, dataDir: '/var/lib/tianshu', mode: 'development', demo: { enabled: true } });
    expect(config.database).toBeUndefined();
    // the chart owns only these top-level keys; the rest are the service's own
    expect(Object.keys(config).sort()).toEqual(['auth', 'clouds', 'dataDir', 'demo', 'limits', 'listen', 'mode', 'tenants', 'tiers']);
  });

  it("renders configurations the service's own loader accepts, with the env the pod gets", () => {
    const dev = loadRendered(defaults);
    expect(dev.mode).toBe('development');
    expect(dev.listen).toEqual({ host: '0.0.0.0', port: 4000 });
    expect(dev.database.url).toBeUndefined();

    const prod = loadRendered(productionObjects);
    expect(prod.mode).toBe('production');
    expect(prod.database.url).toMatch(/^postgres:\/\//);
    expect(prod.auth.oidc).toEqual({
      issuer: 'https://sso.gov.example.cn/realms/tianshu',
      audience: 'tianshu',
      jwksUrl: 'https://sso.gov.example.cn/realms/tianshu/protocol/openid-connect/certs',
      algorithms: ['RS256'],
    });
    expect(prod.demo.enabled).toBe(false);

    // clouds declared through values, as the chart README shows, reach the service intact
    const clouds = [
      { id: 'gd-sz-k8s', kind: 'kubernetes', locality: 'cn/gd/sz', tier: 'L3', capacity: { cpu: 64000, memory: 262144 }, connection: { kubeconfigPath: '/etc/tianshu/credentials/gd-sz.kubeconfig' } },
      { id: 'local', kind: 'kubernetes', locality: 'cn/gd/gz', tier: 'L2', capacity: { cpu: 16000, memory: 65536 }, connection: { inCluster: true } },
    ];
    const tenants = [{ path: 'gd', quota: { total: { cpu: 8000 } } }, { path: 'gd/sz' }];
    const withClouds = loadRendered(render('-f', valuesFile(scratch, 'clouds.yaml', { config: { demo: { enabled: false }, clouds, tenants } })));
    expect(withClouds.clouds.map((c) => c.id)).toEqual(['gd-sz-k8s', 'local']);
    expect(withClouds.tenants.map((t) => t.path)).toEqual(['gd', 'gd/sz']);
  });

  it('takes config/example.yaml as `config`, minus the fields the chart owns, and the service accepts the result', (ctx) => {
    const examplePath = join(root, 'config', 'example.yaml');
    if (!existsSync(examplePath)) ctx.skip('config/example.yaml is not there yet');
    const example = parse(readFileSync(examplePath, 'utf8')) as Record<string, unknown> & { auth?: Record<string, unknown>; clouds?: { id: string }[] };
    const { listen: _listen, dataDir: _dataDir, database: _database, auth, ...rest } = example;
    const { oidc: _oidc, devSecretFile: _devSecretFile, ...chartAuth } = auth ?? {};
    const objs = render('-f', valuesFile(scratch, 'example-config.yaml', { config: { ...rest, auth: chartAuth } }));
    const loaded = loadRendered(objs);
    expect(loaded.clouds.map((c) => c.id)).toEqual((example.clouds ?? []).map((c) => c.id));
    expect(loaded.limits).toEqual(example.limits);
    expect(loaded.listen).toEqual({ host: '0.0.0.0', port: 4000 });
  });

  it('grants the provider and the leader lease exactly what they need', () => {
    const role = only<KubeObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(defaults, 'Role');
    expect(role.rules).toContainEqual(expect.objectContaining({ apiGroups: ['coordination.k8s.io'], resources: ['leases'] }));
    const cr = only<KubeObject & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }>(defaults, 'ClusterRole');
    const can = (group: string, resource: string, verb: string): boolean =>
      cr.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const [g, r] of [['', 'namespaces'], ['', 'resourcequotas'], ['apps', 'deployments']] as const) {
      for (const verb of ['get', 'create', 'patch', 'delete']) expect(can(g, r, verb), `${verb} ${r}`).toBe(true);
    }
    for (const r of ['nodes', 'pods']) {
      expect(can('', r, 'list'), `list ${r}`).toBe(true);
      expect(can('', r, 'delete'), `no delete ${r}`).toBe(false);
    }
    // the bindings name the chart's ServiceAccount in the release namespace
    const sa = only(defaults, 'ServiceAccount');
    for (const kind of ['RoleBinding', 'ClusterRoleBinding']) {
      const b = only<KubeObject & { subjects: { kind: string; name: string; namespace: string }[] }>(defaults, kind);
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace }]);
    }
    // each RBAC part can be turned off
    const none = render('--set', 'rbac.leaderElection=false', '--set', 'rbac.clusterProvider=false', '--set', 'serviceAccount.create=false');
    expect(kinds(none).filter((k) => /Role|ServiceAccount/.test(k))).toEqual([]);
    expect(only<DeploymentObject>(none, 'Deployment').spec.template.spec.serviceAccountName).toBe('default');
  });

  it('rolls the pods when the configuration or the Secret changes, and only then', () => {
    const checksum = (objs: KubeObject[], which: string): string | undefined => only<DeploymentObject>(objs, 'Deployment').spec.template.metadata.annotations[`checksum/${which}`];
    const again = render();
    expect(checksum(again, 'config')).toBe(checksum(defaults, 'config'));
    const limited = render('--set', 'config.limits.ratePerMinute=60');
    expect(checksum(limited, 'config')).not.toBe(checksum(defaults, 'config'));
    const pg1 = render('--set', 'database.url=postgres://a@db:5432/t');
    const pg2 = render('--set', 'database.url=postgres://b@db:5432/t');
    expect(checksum(pg1, 'secret')).not.toBe(checksum(pg2, 'secret'));
    expect(checksum(pg1, 'config')).toBe(checksum(pg2, 'config'));
  });

  it('renders the production example: three replicas on PostgreSQL from a Secret, OIDC, monitoring', () => {
    const deploy = only<DeploymentObject>(productionObjects, 'Deployment');
    expect(deploy.spec.replicas).toBe(3);
    const c = deploy.spec.template.spec.containers[0];
    const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e]));
    expect(env.TIANSHU_DATABASE_URL?.valueFrom?.secretKeyRef).toEqual({ name: 'tianshu-db', key: 'database-url' });
    for (const name of ['TIANSHU_OIDC_ISSUER', 'TIANSHU_OIDC_AUDIENCE', 'TIANSHU_OIDC_JWKS_URL']) {
      expect(env[name]?.valueFrom?.secretKeyRef?.name, name).toBe(release);
    }
    // the chart's Secret holds OIDC but not the database URL (that one lives in tianshu-db)
    const secret = only<KubeObject & { data: Record<string, string> }>(productionObjects, 'Secret');
    expect(Object.keys(secret.data).sort()).toEqual(['oidc-audience', 'oidc-issuer', 'oidc-jwks-url']);
    expect(Buffer.from(secret.data['oidc-issuer'] ?? '', 'base64').toString()).toBe('https://sso.gov.example.cn/realms/tianshu');

    const cm = productionObjects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === release) as (KubeObject & { data: Record<string, string> }) | undefined;
    const config = parse(cm?.data['config.yaml'] ?? '') as { mode: string; demo: { enabled: boolean }; auth: { oidc: { algorithms: string[] } } };
    expect(config.mode).toBe('production');
    expect(config.demo.enabled).toBe(false);
    expect(config.auth.oidc).toEqual({ algorithms: ['RS256'] });

    const pdb = only<KubeObject & { spec: Record<string, unknown> }>(productionObjects, 'PodDisruptionBudget');
    expect(pdb.spec.minAvailable).toBe(2);
    expect(pdb.spec.maxUnavailable).toBeUndefined();
    // replicas spread over nodes and zones
    expect(JSON.stringify(deploy.spec.template.spec)).toContain('topology.kubernetes.io/zone');

    const sm = only<KubeObject & { spec: { endpoints: { port: string; path: string }[] } }>(productionObjects, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
  });

  it('renders the PrometheusRule from the alert rules and the dashboards for Grafana', () => {
    expect(defaults.some((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule')).toBe(false);
    expect(defaults.filter((o) => o.metadata.labels?.grafana_dashboard !== undefined)).toEqual([]);

    const dashboards = productionObjects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards).toHaveLength(dashboardFiles.length);
    if (dashboardFiles.length === 0) {
      const res = helm('template', release, chartDir, '--set', 'dashboards.enabled=true');
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain('the chart has no files/*.json dashboards');
    }
    for (const file of dashboardFiles) {
      const cm = dashboards.find((d) => d.metadata.name === `${release}-dashboard-${file.replace(/\.json$/, '')}`) as (KubeObject & { data: Record<string, string> }) | undefined;
      expect(cm, file).toBeDefined();
      const json = cm?.data[`tianshu-${file}`] ?? '';
      expect(JSON.parse(json)).toEqual(JSON.parse(readFileSync(join(chartDir, 'files', file), 'utf8')));
    }

    if (hasAlerts) {
      const rule = only<KubeObject & { spec: { groups: unknown[] } }>(productionObjects, 'PrometheusRule');
      const alerts = parse(readFileSync(join(chartDir, 'files', 'alerts.yaml'), 'utf8')) as { groups: unknown[] };
      expect(rule.spec.groups).toEqual(alerts.groups);
    } else {
      // no alert rules shipped yet: enabling the rule must fail loudly, not render an empty rule
      const res = helm('template', release, chartDir, '--set', 'prometheusRule.enabled=true');
      expect(res.status).not.toBe(0);
      expect(res.stderr).toContain('files/alerts.yaml has no rule groups');
    }
  });

  it('mounts provider credentials from the chart Secret and an existing Secret', () => {
    const objs = render(
      '--set',
      'providerCredentials.env.AWS_ACCESS_KEY_ID=AKIA123',
      '--set',
      'providerCredentials.files.gd-sz\\.kubeconfig=apiVersion: v1',
      '--set',
      'providerCredentials.existingSecret=more-kubeconfigs',
    );
    const secret = only<KubeObject & { data: Record<string, string> }>(objs, 'Secret');
    expect(Object.keys(secret.data).sort()).toEqual(['env.AWS_ACCESS_KEY_ID', 'file.gd-sz.kubeconfig']);
    const deploy = only<DeploymentObject>(objs, 'Deployment');
    const c = deploy.spec.template.spec.containers[0];
    expect(c?.env).toContainEqual({ name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: release, key: 'env.AWS_ACCESS_KEY_ID' } } });
    expect(c?.volumeMounts).toContainEqual({ name: 'credentials', mountPath: '/etc/tianshu/credentials', readOnly: true });
    expect(JSON.stringify(deploy.spec.template.spec.volumes)).toContain('more-kubeconfigs');
  });

  it('agrees with the Dockerfile on user, port, command and config path', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const user = /^USER\s+(\d+)/m.exec(dockerfile)?.[1];
    const port = /^EXPOSE\s+(\d+)/m.exec(dockerfile)?.[1];
    const c = only<DeploymentObject>(defaults, 'Deployment').spec.template.spec.containers[0];
    expect(c?.args).toEqual(cmd);
    expect(c?.securityContext.runAsUser).toBe(Number(user));
    expect(c?.ports[0]?.containerPort).toBe(Number(port));
    const configPath = cmd[cmd.indexOf('--config') + 1] ?? '';
    expect(c?.volumeMounts.find((m) => m.name === 'config')?.mountPath).toBe(dirname(configPath));
    const cm = only<KubeObject & { data: Record<string, string> }>(defaults, 'ConfigMap');
    expect(Object.keys(cm.data)).toEqual([configPath.split('/').at(-1)]);
  });

  it('refuses values that break the schema, naming the problem', () => {
    const cases: { name: string; values: unknown; message: RegExp }[] = [
      { name: 'replicas-as-text', values: { replicaCount: 'three' }, message: /replicaCount[\s\S]*(got string, want integer|expected integer)/ },
      { name: 'unknown-key', values: { replicas: 3 }, message: /additional propert(y|ies) 'replicas' not allowed/ },
      { name: 'unknown-nested-key', values: { config: { listen: { port: 80 } } }, message: /\/config[\s\S]*additional propert(y|ies) 'listen' not allowed/ },
      { name: 'replicas-on-sqlite', values: { replicaCount: 3 }, message: /replicaCount > 1 requires PostgreSQL/ },
      { name: 'replicas-on-sqlite-url', values: { replicaCount: 2, database: { url: 'sqlite:/var/lib/tianshu/t.db' } }, message: /'sqlite:\/var\/lib\/tianshu\/t\.db' does not match[\s\S]*replicaCount > 1 requires PostgreSQL/ },
      {
        name: 'replicas-with-development-tokens',
        values: { replicaCount: 2, database: { url: 'postgres://t@db:5432/t' } },
        message: /\/config\/mode': value must be 'production'/,
      },
      { name: 'production-without-oidc', values: { config: { mode: 'production' } }, message: /\/oidc\/enabled/ },
      { name: 'oidc-without-issuer', values: { oidc: { enabled: true, audience: 'x', jwksUrl: 'https://i/jwks' } }, message: /\/oidc\/issuer/ },
      { name: 'root', values: { securityContext: { runAsNonRoot: false } }, message: /\/securityContext\/runAsNonRoot/ },
      {
        name: 'replicas-on-one-volume',
        values: { replicaCount: 2, persistence: { enabled: true }, database: { url: 'postgres://t@db:5432/t' }, config: { mode: 'production' }, oidc: { enabled: true, existingSecret: 'sso' } },
        message: /\/replicaCount': maximum: got 2, want 1/,
      },
      { name: 'bad-port', values: { containerPort: 70000 }, message: /\/containerPort/ },
    ];
    for (const c of cases) {
      const file = valuesFile(scratch, `${c.name}.yaml`, c.values);
      for (const cmd of [['template', release, chartDir, '-f', file], ['lint', chartDir, '-f', file]]) {
        const res = helm(...cmd);
        expect(res.status, `${c.name}: helm ${cmd[0]} should refuse\n${res.stdout}`).not.toBe(0);
        const out = `${res.stdout}\n${res.stderr}`;
        expect(out, `${c.name}: helm ${cmd[0]}`).toContain("values don't meet the specifications of the schema");
        expect(out, `${c.name}: helm ${cmd[0]}`).toMatch(c.message);
      }
    }
    // and the fix for the SQLite case is accepted
    const fixed = valuesFile(scratch, 'replicas-on-postgres.yaml', {
      replicaCount: 3,
      database: { url: 'postgres://t@db:5432/t' },
      config: { mode: 'production' },
      oidc: { enabled: true, issuer: 'https://sso.example/realms/t', audience: 't', jwksUrl: 'https://sso.example/realms/t/certs' },
    });
    expect(helm('template', release, chartDir, '-f', fixed).status).toBe(0);
  });
});

/** One API resource as discovery reports it. */
interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Server-side apply as a dry run: the body is JSON, which is valid apply-patch YAML. */
function applyDryRun(kube: KubeInstance, path: string, obj: KubeObject): Promise<{ status: number; body: unknown }> {
  const url = new URL(`${path}?dryRun=All&fieldManager=tianshu-test&fieldValidation=Strict&force=true`, kube.server);
  const payload = JSON.stringify(obj);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        rejectUnauthorized: false,
        timeout: 15_000,
        headers: {
          authorization: `Bearer ${kube.token}`,
          accept: 'application/json',
          'content-type': 'application/apply-patch+yaml',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text) as unknown;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`PATCH ${url.href} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

describeWithComponents(['helm', ...KUBE_COMPONENTS], 'chart: accepted by a real kube-apiserver (server-side dry-run)', () => {
  let kube: KubeInstance;
  const discovery = new Map<string, ApiResource[]>();

  async function resourceFor(apiVersion: string, kind: string): Promise<ApiResource> {
    let list = discovery.get(apiVersion);
    if (list === undefined) {
      const res = await kubeRequest(kube.server, kube.token, 'GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
      expect(res.status, `discovery of ${apiVersion}`).toBe(200);
      list = (res.body as { resources: ApiResource[] }).resources.filter((r) => !r.name.includes('/'));
      discovery.set(apiVersion, list);
    }
    const found = list.find((r) => r.kind === kind);
    if (found === undefined) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return found;
  }

  async function dryRun(obj: KubeObject): Promise<{ status: number; body: unknown }> {
    const r = await resourceFor(obj.apiVersion, obj.kind);
    const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    const ns = obj.metadata.namespace ?? namespace;
    const path = r.namespaced ? `${base}/namespaces/${ns}/${r.name}/${obj.metadata.name}` : `${base}/${r.name}/${obj.metadata.name}`;
    return applyDryRun(kube, path, obj);
  }

  beforeAll(async () => {
    kube = await startKube();
    const ns = await kubeRequest(kube.server, kube.token, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    expect(ns.status, JSON.stringify(ns.body)).toBe(201);
    const crdDir = join(root, 'test', 'fixtures', 'crds');
    const names: string[] = [];
    for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
      const crd = parse(readFileSync(join(crdDir, file), 'utf8')) as KubeObject;
      const res = await kubeRequest(kube.server, kube.token, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      expect(res.status, `${file}: ${JSON.stringify(res.body)}`).toBe(201);
      names.push(crd.metadata.name);
    }
    expect(names.sort()).toEqual(['prometheusrules.monitoring.coreos.com', 'servicemonitors.monitoring.coreos.com']);
    // wait until both are Established and their resources are discoverable
    const deadline = Date.now() + 30_000;
    for (;;) {
      let ready = 0;
      for (const name of names) {
        const res = await kubeRequest(kube.server, kube.token, 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
        const conditions = (res.body as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? [];
        if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) ready += 1;
      }
      const disc = await kubeRequest(kube.server, kube.token, 'GET', '/apis/monitoring.coreos.com/v1');
      if (ready === names.length && disc.status === 200) break;
      if (Date.now() > deadline) throw new Error('the Prometheus Operator CRDs did not become Established within 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await kube?.stop();
  });

  const variants: { name: string; args: string[] }[] = [
    { name: 'default values', args: [] },
    { name: 'the production example', args: production },
    {
      name: 'every optional part on (a PVC, PostgreSQL URL and provider credentials in the chart Secret, dashboards in their own namespace)',
      args: [
        ...['persistence.enabled=true', 'serviceMonitor.enabled=true', `dashboards.namespace=${namespace}`, 'providerCredentials.env.AWS_SECRET_ACCESS_KEY=s3cr3t'],
        ...['providerCredentials.files.remote\\.kubeconfig=apiVersion: v1', 'database.url=postgres://t@db:5432/t', 'podDisruptionBudget.maxUnavailable=25%'],
        ...(dashboardFiles.length > 0 ? ['dashboards.enabled=true'] : []),
        ...(hasAlerts ? ['prometheusRule.enabled=true'] : []),
      ].flatMap((kv) => ['--set', kv]),
    },
  ];

  for (const v of variants) {
    it(`accepts every object rendered from ${v.name}`, async () => {
      const objects = render(...v.args);
      expect(objects.length).toBeGreaterThan(5);
      const refused: string[] = [];
      for (const obj of objects) {
        const res = await dryRun(obj);
        if (res.status !== 200 && res.status !== 201) {
          refused.push(`${obj.kind}/${obj.metadata.name}: ${res.status} ${(res.body as { message?: string }).message ?? JSON.stringify(res.body)}`);
        }
      }
      expect(refused).toEqual([]);
    });
  }

  it('really validates: a mistyped field and a bad value are refused', async () => {
    const deploy = only<DeploymentObject>(render(), 'Deployment');
    const typo = structuredClone(deploy) as DeploymentObject & { spec: { replica?: number } };
    typo.spec.replica = 2;
    const res1 = await dryRun(typo);
    // server-side apply refuses fields outside the schema (with a 500, as apiservers do for typed-patch errors)
    expect(res1.status, JSON.stringify(res1.body)).toBeGreaterThanOrEqual(400);
    expect((res1.body as { message: string }).message).toContain('.spec.replica: field not declared in schema');

    const bad = structuredClone(deploy);
    const c = bad.spec.template.spec.containers[0];
    if (c !== undefined) c.livenessProbe.httpGet.port = 'no-such-port-name-that-is-too-long';
    const res2 = await dryRun(bad);
    expect(res2.status, JSON.stringify(res2.body)).toBe(422);
    expect((res2.body as { message: string }).message).toContain('livenessProbe.httpGet.port');
  });

  it('helm install --dry-run=server against the API server builds every object and prints the NOTES', () => {
    const install = (...extra: string[]): HelmResult =>
      helm('install', release, chartDir, '--dry-run=server', '--kubeconfig', kube.kubeconfigPath, '--namespace', namespace, ...extra);
    const dev = install();
    expect(dev.status, dev.stderr).toBe(0);
    expect(dev.stdout).toContain(`kubectl -n ${namespace} port-forward svc/${release} 4000:4000`);
    expect(dev.stdout).toContain(`kubectl -n ${namespace} exec deploy/${release} -- node dist/bin/tianshu.js token --role operator --config /etc/tianshu/config.yaml`);
    const prod = install(...production);
    expect(prod.status, prod.stderr).toBe(0);
    expect(prod.stdout).toContain('3 replicas, one leader elected through a Lease');
    expect(prod.stdout).toContain('store: PostgreSQL');
    expect(prod.stdout).toContain('production mode accepts only JWTs from the OIDC issuer');
    expect(prod.stdout).not.toContain('token --role operator');
  });

  it('dry-run stored nothing', async () => {
    const res = await kubeRequest(kube.server, kube.token, 'GET', `/apis/apps/v1/namespaces/${namespace}/deployments`);
    expect((res.body as { items: unknown[] }).items).toEqual([]);
  });
});
