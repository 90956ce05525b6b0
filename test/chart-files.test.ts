/**
 * Static checks of the Helm chart that need no binaries: the chart's copies of the dashboards
 * and alert rules match `dashboards/`, the chart's version facts match package.json, and the
 * image facts the chart relies on (user, port, entrypoint, command, paths) match the Dockerfile.
 * The rendered-object checks against real helm and a real kube-apiserver are in
 * chart-helm.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigSchema } from '../config/schema.js';
import { SERVICE_NODE_FLAGS } from '../bin/node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chartDir = join(root, 'charts', 'tianshu');

/** One instruction of a Dockerfile: the keyword (upper-case) and its raw arguments. */
interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
}

/** A parsed Dockerfile: its global ARG defaults and its stages in order. */
interface Dockerfile {
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly { readonly from: string; readonly name: string | undefined; readonly instructions: readonly DockerInstruction[] }[];
}

/**
 * Parses a Dockerfile well enough to check what the chart depends on: joins `\` continuations,
 * drops comments, splits into stages at FROM and resolves `${ARG}` in FROM from global ARGs.
 */
function parseDockerfile(text: string): Dockerfile {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '') logical.push(full);
  }
  const args: Record<string, string> = {};
  const stages: { from: string; name: string | undefined; instructions: DockerInstruction[] }[] = [];
  for (const line of logical) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (m?.[1] === undefined || m[2] === undefined) continue;
    const keyword = m[1].toUpperCase();
    const rest = m[2].trim();
    if (keyword === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_s, a: string | undefined, b: string | undefined) => args[a ?? b ?? ''] ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage === undefined) {
      if (keyword === 'ARG') {
        const [k, v] = rest.split('=', 2);
        if (k !== undefined && v !== undefined) args[k] = v;
      }
      continue;
    }
    stage.instructions.push({ keyword, args: rest });
  }
  return { args, stages };
}

/** The arguments of the last `keyword` instruction of a stage, or undefined. */
function lastInstruction(stage: Dockerfile['stages'][number], keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

/** Reads the Dockerfile's final (runtime) stage facts the chart depends on. */
function runtimeFacts(df: Dockerfile): {
  from: string;
  user: string;
  uid: number;
  gid: number;
  expose: number[];
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  runs: string;
} {
  const stage = df.stages.at(-1);
  if (stage === undefined) throw new Error('Dockerfile has no stage');
  const user = lastInstruction(stage, 'USER') ?? '';
  const [uid = '', gid = uid] = user.split(':');
  return {
    from: stage.from,
    user,
    uid: Number(uid),
    gid: Number(gid),
    expose: stage.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => Number(p.split('/')[0]))),
    workdir: lastInstruction(stage, 'WORKDIR') ?? '/',
    entrypoint: JSON.parse(lastInstruction(stage, 'ENTRYPOINT') ?? '[]') as string[],
    cmd: JSON.parse(lastInstruction(stage, 'CMD') ?? '[]') as string[],
    runs: stage.instructions
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n'),
  };
}

interface ChartValues {
  containerPort: number;
  dataDir: string;
  image: { repository: string; tag: string };
  securityContext: Record<string, unknown>;
  podSecurityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
  service: { port: number };
}

const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as ChartValues;
const dockerfile = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));

describe('chart: copies of the dashboards and alert rules', () => {
  const wanted = (dir: string): string[] => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      // directory not there yet
    }
    return names.filter((n) => n.endsWith('.json') || n === 'alerts.yaml').sort();
  };

  it('holds exactly the files of dashboards/ (run charts/sync-dashboards.sh)', () => {
    expect(wanted(join(chartDir, 'files'))).toEqual(wanted(join(root, 'dashboards')));
  });

  it('holds them byte for byte (run charts/sync-dashboards.sh)', () => {
    for (const name of wanted(join(root, 'dashboards'))) {
      const source = readFileSync(join(root, 'dashboards', name), 'utf8');
      const copy = readFileSync(join(chartDir, 'files', name), 'utf8');
      expect(copy, `charts/tianshu/files/${name} differs from dashboards/${name}`).toBe(source);
    }
  });
});

describe('chart: versions', () => {
  it('appVersion is the package version and the default image tag follows it', () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { apiVersion: string; appVersion: string; version: string };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(pkg.version);
    expect(values.image.tag).toBe('');
  });

  it('the schema is draft-07 and closes the top level', () => {
    const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as { $schema: string; additionalProperties: boolean; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    // every default value has a schema entry (the schema refuses unknown keys, so a key missing
    // there would make the chart refuse its own defaults)
    expect(Object.keys(values).filter((k) => !(k in schema.properties))).toEqual([]);
  });
});

/** Config fields the chart sets itself (from other values or the pod), so `config` must not carry them. */
const CHART_OWNED = {
  top: ['listen', 'dataDir', 'database'],
  auth: ['oidc', 'devSecretFile'],
} as const;

describe("chart: values.schema.json's config follows the service's config schema", () => {
  interface JsonSchemaObject {
    properties: Record<string, JsonSchemaObject>;
    additionalProperties?: boolean;
  }
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as JsonSchemaObject;
  const config = schema.properties.config;
  const keys = (o: JsonSchemaObject | undefined): string[] => Object.keys(o?.properties ?? {}).sort();

  it('accepts every top-level field the service knows, except those the chart owns', () => {
    expect(config?.additionalProperties).toBe(false);
    expect([...keys(config), ...CHART_OWNED.top].sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it('accepts every auth, limits and demo field, except the OIDC settings and dev secret file the chart owns', () => {
    const shape = ConfigSchema.shape;
    expect([...keys(config?.properties.auth), ...CHART_OWNED.auth].sort()).toEqual(Object.keys(shape.auth.unwrap().shape).sort());
    expect(keys(config?.properties.limits)).toEqual(Object.keys(shape.limits.unwrap().shape).sort());
    expect(keys(config?.properties.demo)).toEqual(Object.keys(shape.demo.unwrap().shape).sort());
  });
});

describe('chart: agrees with the Dockerfile', () => {
  const facts = runtimeFacts(dockerfile);

  it('builds on node:20-bookworm-slim in two stages and runs npm ci, build and prune', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(stage.from).toBe('node:20-bookworm-slim');
    const build = dockerfile.stages[0];
    const runs = build?.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n') ?? '';
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build\b/);
    expect(runs).toMatch(/npm prune --omit=dev\b/);
  });

  it('sends the build every folder tsconfig.build.json compiles, and no node_modules, dist or .git', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // .dockerignore patterns are Go filepath.Match globs plus `**`; enough of that for top-level names
    const toRegExp = (p: string): RegExp =>
      new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '(.*/)?').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/.*)?$`);
    const ignored = (name: string): boolean => ignore.some((p) => !p.startsWith('!') && toRegExp(p).test(name));
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    for (const dir of build.include) expect(ignored(dir), `.dockerignore must let ${dir}/ through`).toBe(false);
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(ignored(file), file).toBe(false);
    for (const heavy of ['node_modules', 'dist', '.git', 'test', 'store/store.test.ts']) expect(ignored(heavy), `.dockerignore must drop ${heavy}`).toBe(true);
  });

  it('runs as the uid/gid the chart forces, non-root', () => {
    expect(facts.user).toMatch(/^\d+:\d+$/); // numeric, so the kubelet can check runAsNonRoot
    expect(facts.uid).toBe(10001);
    expect(values.securityContext.runAsUser).toBe(facts.uid);
    expect(values.securityContext.runAsGroup).toBe(facts.gid);
    expect(values.podSecurityContext.runAsUser).toBe(facts.uid);
    expect(values.podSecurityContext.fsGroup).toBe(facts.gid);
    expect(values.securityContext.runAsNonRoot).toBe(true);
  });

  it('exposes the port the chart targets', () => {
    expect(facts.expose).toEqual([values.containerPort]);
    expect(values.containerPort).toBe(4000);
  });

  it('has the entrypoint, command and paths the chart and NOTES use', () => {
    expect(facts.entrypoint).toEqual(['node', ...SERVICE_NODE_FLAGS, 'dist/bin/tianshu.js']);
    expect(facts.cmd).toEqual(['serve', '--config', '/etc/tianshu/config.yaml']);
    expect(facts.workdir).toBe('/app');
    // the data directory exists and belongs to the runtime user
    expect(facts.runs).toContain(values.dataDir);
    expect(facts.runs).toMatch(new RegExp(`chown ${facts.uid}:${facts.gid} ${values.dataDir}`));
    const notes = readFileSync(join(chartDir, 'templates', 'NOTES.txt'), 'utf8');
    // A one-off command needs no tuned young generation.
    expect(notes).toContain(`-- node dist/bin/tianshu.js token --role operator`);
  });

  it('starts node with the V8 flags of bin/node-flags.ts, as npm start does', () => {
    expect(SERVICE_NODE_FLAGS.length).toBeGreaterThan(0);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(`node ${SERVICE_NODE_FLAGS.join(' ')} dist/bin/tianshu.js serve`);
    // The chart runs the image's ENTRYPOINT and only adds NODE_OPTIONS, where a minimum semi-space is refused.
    const deployment = readFileSync(join(chartDir, 'templates', 'deployment.yaml'), 'utf8');
    expect(deployment).not.toMatch(/semi-space/);
  });
});
