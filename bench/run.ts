/**
 * `npm run bench [-- filter…]`: imports every `bench/*.ts` module (except this one) in name order
 * and awaits its exported `run()`, one after another so no benchmark competes with another for
 * the core. With arguments, only modules whose name contains one of them run
 * (`npm run bench -- scheduler`).
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2).filter((a) => a !== '--');
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && f !== 'run.ts')
  .map((f) => f.slice(0, -3))
  .filter((name) => filters.length === 0 || filters.some((x) => name.includes(x)))
  .sort();

if (modules.length === 0) {
  console.error(`bench: no benchmark matches ${filters.join(', ')}`);
  process.exitCode = 1;
}
for (const name of modules) {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> | void };
  if (typeof mod.run !== 'function') continue;
  await mod.run();
}
