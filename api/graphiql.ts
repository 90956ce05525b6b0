/**
 * GraphiQL served from this process: the page and its assets (React, ReactDOM and GraphiQL's UMD
 * bundles) come from the installed npm packages, never from a CDN, so the IDE works on an
 * air-gapped government network. Registered in development mode only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** One served asset: where it comes from and how it is sent. */
interface Asset {
  readonly pkg: string;
  /** Path inside the package; read directly because packages' `exports` hide their UMD builds. */
  readonly file: string;
  readonly contentType: string;
}

const ASSETS: Readonly<Record<string, Asset>> = {
  'react.js': { pkg: 'react', file: 'umd/react.production.min.js', contentType: 'application/javascript; charset=utf-8' },
  'react-dom.js': { pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: 'application/javascript; charset=utf-8' },
  'graphiql.js': { pkg: 'graphiql', file: 'graphiql.min.js', contentType: 'application/javascript; charset=utf-8' },
  'graphiql.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
};

/** The page: GraphiQL pointed at this server's `/graphql`, headers editor open for a pasted token. */
function page(prefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GraphiQL</title>
<link rel="stylesheet" href="${prefix}/assets/graphiql.css">
<style>html,body,#graphiql{height:100%;margin:0}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
<script src="${prefix}/assets/react.js"></script>
<script src="${prefix}/assets/react-dom.js"></script>
<script src="${prefix}/assets/graphiql.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).toString() });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: 'headers',
      defaultHeaders: '{"Authorization": "Bearer <paste a token printed by tianshu serve>"}',
      defaultQuery: '{ viewer { subject role tenant } fleetSummary { clouds } }',
    }),
  );
</script>
</body>
</html>
`;
}

/** The directory of an installed package: up from its main entry to the folder holding its package.json. */
function packageDir(require: NodeJS.Require, pkg: string): string {
  let dir = dirname(require.resolve(pkg));
  while (!existsSync(join(dir, 'package.json')) || !dir.endsWith(pkg)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot locate the installed package ${pkg}`);
    dir = up;
  }
  return dir;
}

/**
 * Registers `GET {prefix}` (the page) and `GET {prefix}/assets/:file`. The assets are read once,
 * here, so a missing package fails at start-up rather than on a browser's first visit.
 */
export function registerGraphiql(app: FastifyInstance, prefix = '/graphiql'): void {
  const require = createRequire(import.meta.url);
  const bodies = new Map<string, { body: Buffer; contentType: string }>();
  for (const [file, asset] of Object.entries(ASSETS)) {
    bodies.set(file, { body: readFileSync(join(packageDir(require, asset.pkg), asset.file)), contentType: asset.contentType });
  }
  const html = page(prefix);
  app.get(prefix, (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
  app.get<{ Params: { file: string } }>(`${prefix}/assets/:file`, (request, reply) => {
    const asset = bodies.get(request.params.file);
    if (asset === undefined) return reply.code(404).send({ error: 'not found' });
    return reply.type(asset.contentType).header('cache-control', 'public, max-age=86400').send(asset.body);
  });
}
