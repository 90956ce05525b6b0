/**
 * `npm run bench [-- filter…]`: runs the exported `run()` of every `bench/*.ts` module (except
 * this one) in name order, one after another so no benchmark competes with another for the core,
 * each in a process of its own, so that none inherits another's heap or the code V8 optimised for
 * another's workload. With arguments, only modules whose name contains one of them run
 * (`npm run bench -- scheduler`).
 */
import { fork } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const MODULE_FLAG = '--bench-module';

/** Runs one benchmark module's `run()` in this process. */
async function runModule(name: string): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as { run?: () => Promise<void> | void };
  if (typeof mod.run === 'function') await mod.run();
}

/** Runs one benchmark module in a child process (with this process's loader flags); rejects if it fails. */
function runChild(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(self, [MODULE_FLAG, name], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`bench ${name} exited with ${signal ?? code}`))));
  });
}

const args = process.argv.slice(2).filter((a) => a !== '--');
const only = args[0] === MODULE_FLAG ? args[1] : undefined;
if (only !== undefined) {
  await runModule(only);
} else {
  const modules = readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts') && f !== 'run.ts')
    .map((f) => f.slice(0, -3))
    .filter((name) => args.length === 0 || args.some((x) => name.includes(x)))
    .sort();
  if (modules.length === 0) {
    console.error(`bench: no benchmark matches ${args.join(', ')}`);
    process.exitCode = 1;
  }
  for (const name of modules) await runChild(name);
}
