/**
 * Child-process plumbing shared by the rig helpers: spawn with output captured to a log file,
 * kill on `stop()` and on process exit, wait for readiness with the log tail in every error.
 *
 * @packageDocumentation
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options for {@link spawnManaged}. */
export interface SpawnOptions {
  /** File that receives the child's stdout and stderr (appended). */
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run the child as this uid/gid (only possible when we are root). */
  uid?: number;
  gid?: number;
  /**
   * Keep the event loop alive while the child runs (default false: servers are unref'd so a
   * script that forgets `stop()` still ends, and the exit hook kills them). Set it for
   * short-lived commands whose exit you await.
   */
  keepAlive?: boolean;
}

/** A child process owned by the rig. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or null when killed by a signal) once the child is gone. */
  readonly exited: Promise<number | null>;
  /** True until the child has exited. */
  isRunning(): boolean;
  /**
   * Sends `signal` to the child's process group, waits up to `timeoutMs`, then SIGKILLs.
   * Resolves once the child has exited. Safe to call more than once.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
  /** The last `lines` lines of the log file. */
  tail(lines?: number): string;
}

const live = new Set<ManagedProcess>();
const exitHooks = new Set<() => void>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function runExitHooks(): void {
  for (const proc of live) killGroup(proc.pid, 'SIGKILL');
  live.clear();
  for (const hook of exitHooks) {
    try {
      hook();
    } catch {
      // best effort at exit
    }
  }
  exitHooks.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', runExitHooks);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runExitHooks();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * Registers a synchronous hook run when the process exits (or gets SIGINT/SIGTERM/SIGHUP),
 * after all managed children have been SIGKILLed. Returns a function that unregisters it.
 */
export function onExit(hook: () => void): () => void {
  installHooks();
  exitHooks.add(hook);
  return () => {
    exitHooks.delete(hook);
  };
}

/** Reads the last `lines` lines of a file, or a note when it cannot be read. */
export function tailFile(path: string, lines = 30): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return `(no log at ${path})`;
  }
}

/**
 * Creates a temp directory that is removed at process exit unless `keep` is true (or
 * `TIANSHU_RIG_KEEP=1`, handy to inspect logs after a failure). Returns the path and a
 * function removing it now.
 */
export function makeTempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `tianshu-${prefix}-`));
  const keep = process.env.TIANSHU_RIG_KEEP === '1';
  const remove = (): void => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onExit(remove);
  return {
    dir,
    remove: () => {
      unregister();
      remove();
    },
  };
}

/**
 * Spawns `command` in its own process group with stdout+stderr appended to `opts.logPath`.
 * The child is SIGKILLed at process exit if still running.
 */
export function spawnManaged(name: string, command: string, args: readonly string[], opts: SpawnOptions): ManagedProcess {
  installHooks();
  const fd = openSync(opts.logPath, 'a');
  let child;
  try {
    child = spawn(command, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
      ...(opts.uid === undefined ? {} : { uid: opts.uid }),
      ...(opts.gid === undefined ? {} : { gid: opts.gid }),
    });
  } finally {
    closeSync(fd);
  }
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running = false;
      resolve(code);
    });
    child.once('error', (err) => {
      running = false;
      try {
        appendFileSync(opts.logPath, `spawn ${command} failed: ${err.message}\n`);
      } catch {
        // the log is best effort
      }
      resolve(null);
    });
  });
  if (!opts.keepAlive) child.unref();
  const pid = child.pid ?? -1;
  const proc: ManagedProcess = {
    name,
    pid,
    logPath: opts.logPath,
    exited,
    isRunning: () => running,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
      if (running && pid > 0) {
        killGroup(pid, signal);
        const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(proc);
    },
    tail: (lines = 30) => tailFile(opts.logPath, lines),
  };
  if (pid > 0) live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Options for {@link waitFor}. */
export interface WaitOptions {
  /** What we are waiting for, for the error message. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail fast (with its log tail) if this process exits while we wait. */
  proc?: ManagedProcess;
}

/**
 * Polls `check` until it returns true. Throws after `timeoutMs` (default 60 s), or as soon as
 * `opts.proc` exits, with the last log lines of the process in the message.
 */
export async function waitFor(check: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError = '';
  for (;;) {
    if (opts.proc && !opts.proc.isRunning()) {
      throw new Error(`${opts.what}: ${opts.proc.name} exited during startup; last log lines (${opts.proc.logPath}):\n${opts.proc.tail()}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const tail = opts.proc ? `\nlast log lines (${opts.proc.logPath}):\n${opts.proc.tail()}` : '';
      throw new Error(`${opts.what}: not ready after ${opts.timeoutMs ?? 60_000} ms${lastError ? ` (last error: ${lastError})` : ''}${tail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

/** True when `path` exists (file or directory). */
export function exists(path: string): boolean {
  return existsSync(path);
}
