import { ChildProcess, spawn, SpawnOptions } from 'child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const handedOut = new Set<number>();

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  return [32768, 60999];
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1 for a server the harness starts. Chosen at random below the kernel's
 * ephemeral range (so outgoing connections cannot take it before the server binds it), checked by
 * binding it, and never handed out twice in one run.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const high = Math.min(ephemeralLow, 65536) - 1;
  const low = Math.max(10_000, Math.min(high - 5000, 20_000));
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${low} and ${high}`);
}

/** Polls `check` until it returns true, or throws after `timeoutMs` (or at once when `abort` returns an error). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  abort?: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const aborted = abort?.();
    if (aborted) throw aborted;
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(150);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}

/**
 * A child process started by the harness, in its own process group (so it and its children stop
 * together, and a Ctrl-C in the terminal reaches the harness first, which then stops everything in order).
 */
export class ManagedProcess {
  public exitCode: number | null = null;
  public signal: NodeJS.Signals | null = null;
  public readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  constructor(
    public readonly name: string,
    command: string,
    args: string[],
    public readonly logFile: string,
    options: SpawnOptions = {},
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve();
      });
      this.child.on('error', (err) => {
        this.exitCode = -1;
        process.stderr.write(`${name}: ${err.message}\n`);
        resolve();
      });
    });
  }

  public get pid(): number | undefined {
    return this.child.pid;
  }

  public get running(): boolean {
    return this.exitCode === null && this.signal === null && this.child.pid !== undefined;
  }

  /** An error when the process has already exited (for `waitFor`'s abort). */
  public exitError(): Error | undefined {
    return this.running ? undefined : new Error(`${this.name} exited (code ${this.exitCode}, signal ${this.signal}); see ${this.logFile}`);
  }

  /** Sends a signal to the process group. */
  public kill(signal: NodeJS.Signals): void {
    if (!this.running || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** Stops gracefully with `signal`, then SIGKILL after `timeoutMs`. Resolves with the exit code. */
  public async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.kill(signal);
      const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    // Reap any stragglers left in the group (e.g. NGINX workers).
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // group is empty
      }
    }
    return this.exitCode;
  }

  /** Synchronous last resort for the `exit` event. */
  public killGroupSync(): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/**
 * Everything the harness started: processes (stopped in reverse order), temporary directories and
 * other cleanups. `stopAll` is idempotent; an `exit` hook kills what is left if the harness dies early.
 */
export class Resources {
  private readonly processes: ManagedProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly cleanups: Array<() => Promise<void>> = [];
  private stopping?: Promise<void>;

  constructor() {
    process.on('exit', () => {
      for (const p of this.processes) p.killGroupSync();
      for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    });
  }

  public tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  public spawn(name: string, command: string, args: string[], logFile: string, options: SpawnOptions = {}): ManagedProcess {
    if (this.stopping) throw new Error('stopping: not starting anything new');
    const p = new ManagedProcess(name, command, args, logFile, options);
    this.processes.push(p);
    return p;
  }

  /** Registers a cleanup to run (before processes stop) in `stopAll`. */
  public defer(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  public stopAll(keepDirs = false): Promise<void> {
    this.stopping ??= (async () => {
      for (const c of this.cleanups.reverse()) {
        await c().catch((err) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
      }
      for (const p of [...this.processes].reverse()) await p.stop();
      if (!keepDirs) {
        for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
      }
      this.dirs.length = 0;
    })();
    return this.stopping;
  }
}

/** Stops everything on SIGINT/SIGTERM, then exits (130/143). */
export function stopOnSignals(resources: Resources, log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  const handler = (signal: NodeJS.Signals) => {
    log(`\n${signal}: stopping the local tiers`);
    void resources.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
