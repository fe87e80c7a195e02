import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * systemd's own parser of environment files (`EnvironmentFile=`), through its shared library
 * (`libsystemd-shared-<version>.so`, which exports `load_env_file`): a small C helper
 * (`scripts/lib/systemd-env/parse.c`) is compiled with the system's C compiler into a temporary directory and
 * loads the library with `dlopen`, so the test reads the files exactly as the service manager does.
 */

/** Where distributions put the library: `/usr/lib/<triplet>/systemd/` (Debian), `/usr/lib64/systemd/`, `/usr/lib/systemd/`. */
const LIBRARY_ROOTS = ['/usr/lib', '/lib', '/usr/lib64', '/lib64'];

/** The newest `libsystemd-shared-*.so` on this machine, whatever its version and architecture. */
export function findLibsystemdShared(): string | undefined {
  const dirs: string[] = [];
  for (const root of LIBRARY_ROOTS) {
    dirs.push(path.join(root, 'systemd'));
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(root);
    } catch {
      continue;
    }
    for (const e of entries) dirs.push(path.join(root, e, 'systemd'));
  }
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (/^libsystemd-shared-[0-9][0-9.~a-z-]*\.so$/.test(n)) found.push(path.join(dir, n));
  }
  const version = (p: string) => Number(/libsystemd-shared-([0-9]+)/.exec(p)![1]);
  return found.sort((a, b) => version(b) - version(a))[0];
}

/** What systemd makes of one environment file. */
export interface ParsedEnvironment {
  /** `load_env_file`'s return value: 0, or a negative errno (the unit would not start). */
  readonly status: number;
  /** The `NAME=value` assignments the process gets, in systemd's order, split at the first `=`. */
  readonly entries: Array<[string, string]>;
}

/** The C helper, compiled once per test file. */
export class SystemdEnvParser {
  /** Compiles the helper; throws a message that says what to install when something is missing. */
  public static create(): SystemdEnvParser {
    const library = findLibsystemdShared();
    if (!library) {
      throw new Error(`libsystemd-shared-*.so was not found under ${LIBRARY_ROOTS.join(', ')}: install systemd's shared library `
        + '(Debian and Ubuntu: apt-get install -y libsystemd-shared, part of systemd) to check environment files with systemd\'s own parser');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'systemd-env-'));
    const binary = path.join(dir, 'parse');
    const compile = spawnSync('gcc', ['-O1', '-o', binary, path.join(__dirname, '..', '..', 'scripts', 'lib', 'systemd-env', 'parse.c'), '-ldl'], { encoding: 'utf8' });
    if (compile.error || compile.status !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`compiling the systemd environment helper failed (a C compiler is needed: apt-get install -y gcc libc6-dev): ${compile.error?.message ?? compile.stderr}`);
    }
    return new SystemdEnvParser(library, dir, binary);
  }

  private counter = 0;

  private constructor(public readonly library: string, private readonly dir: string, private readonly binary: string) {}

  /** Parses each content as an environment file (one helper run for all of them). */
  public parse(contents: Array<string | Buffer>): ParsedEnvironment[] {
    if (contents.length === 0) return [];
    const files = contents.map((c) => {
      const file = path.join(this.dir, `env-${this.counter++}`);
      fs.writeFileSync(file, c);
      return file;
    });
    try {
      const result = spawnSync(this.binary, [this.library, ...files], { maxBuffer: 256 * 1024 * 1024 });
      if (result.error) throw result.error;
      if (result.status !== 0) throw new Error(`the systemd environment helper failed (${result.status}): ${result.stderr.toString('utf8')}`);
      return splitOutput(result.stdout, files.length);
    } finally {
      for (const f of files) fs.rmSync(f, { force: true });
    }
  }

  /** Removes the compiled helper. */
  public dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function splitOutput(stdout: Buffer, count: number): ParsedEnvironment[] {
  const results: ParsedEnvironment[] = [];
  let pos = 0;
  const next = (): string => {
    const end = stdout.indexOf(0, pos);
    if (end < 0) throw new Error('the systemd environment helper wrote a truncated answer');
    const s = stdout.subarray(pos, end).toString('utf8');
    pos = end + 1;
    return s;
  };
  for (let i = 0; i < count; i++) {
    const status = Number(next());
    const entries: Array<[string, string]> = [];
    for (let s = next(); s !== ''; s = next()) {
      const eq = s.indexOf('=');
      entries.push([s.slice(0, eq), s.slice(eq + 1)]);
    }
    results.push({ status, entries });
  }
  if (pos !== stdout.length) throw new Error('the systemd environment helper wrote more than expected');
  return results;
}
