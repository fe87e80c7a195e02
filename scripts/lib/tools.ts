import { spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as setTimeoutPromise } from 'timers/promises';

/** The install command printed when a Python tool is missing. */
export const INSTALL_HINT = 'pip install -r requirements-dev.txt';

/** An error whose message is printed alone, on one line, without a stack trace. */
export class UserError extends Error {}

/** Finds an executable on PATH (like `command -v`), or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Fails with a one-line message naming the install command when a tool is missing. */
export function requireTools(names: string[]): void {
  const missing = names.filter((n) => !findExecutable(n));
  if (missing.length > 0) {
    throw new UserError(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed: run \`${INSTALL_HINT}\``);
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** A running moto server. */
export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
  /** Lets the server outlive this process (`--keep`): it is no longer stopped on exit. */
  detach(): void;
}

const running = new Set<ChildProcess>();
const logDirs = new Map<ChildProcess, string>();
process.on('exit', () => {
  // Never leave a server behind when this process exits (its wrapper also stops it when this
  // process is killed outright: its stdin closes).
  for (const child of running) {
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
    fs.rmSync(logDirs.get(child)!, { recursive: true, force: true });
  }
});

/**
 * Starts `moto_server` on a free port of 127.0.0.1 and waits until it answers.
 * Its output goes to a log file in a temporary directory (kept only if it failed to start).
 */
export async function startMoto(): Promise<MotoServer> {
  requireTools(['moto_server', 'cfn-lint']);
  const port = await freePort();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moto-'));
  const logFile = path.join(logDir, 'moto.log');
  const out = fs.openSync(logFile, 'a');
  // A small shell keeps the server tied to this process: it stops the server when this process's
  // end of its stdin closes, however this process ends (even killed), unless told `keep` first.
  const script = [
    `moto_server -H 127.0.0.1 -p ${port} & pid=$!`,
    'trap \'kill $pid 2>/dev/null; wait $pid; exit 0\' TERM INT HUP',
    'read line',
    'if [ "$line" = keep ]; then wait $pid; else kill $pid 2>/dev/null; wait $pid; fi',
  ].join('\n');
  const child = spawn('sh', ['-c', script], {
    stdio: ['pipe', out, out],
    env: { ...process.env, MOTO_PORT: String(port) },
    // its own process group: a Ctrl-C in the terminal reaches this process, which stops it in order
    detached: true,
  });
  fs.closeSync(out);
  running.add(child);
  logDirs.set(child, logDir);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.on('exit', () => {
    exited = true;
    running.delete(child);
    resolve();
  }));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new UserError(`moto_server exited at start; see ${logFile}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killGroup(child);
      throw new UserError(`moto_server did not answer on ${endpoint} within 60 s; see ${logFile}`);
    }
    await sleep(200);
  }
  return {
    endpoint,
    port,
    pid: child.pid!,
    logFile,
    detach() {
      running.delete(child);
      child.stdin?.end('keep\n');
      child.unref();
      (child.stdin as any)?.unref?.();
    },
    async stop() {
      if (exited || !running.has(child)) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup(child), 10_000);
      await exitPromise;
      clearTimeout(timer);
      fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** Kills the wrapper and the server (they share a process group). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => setTimeoutPromise(ms);

/** Formats a duration in seconds, e.g. `1m 05s` or `42.3s`. */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m ${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}
