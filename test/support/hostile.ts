import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import './v8-flags';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as fc from 'fast-check';
import { bareWord, NginxDirective, parseNginx, serializeNginx, structureDifferences, substitution } from './nginx-parse';
import { ENV } from './stacks';
import { ParsedEnvironment, SystemdEnvParser } from './systemd-env';
import { bootFiles, decodeShellArgs, flatten, launchTemplateUserData, resourcesOfType } from './template';
import { formatValue } from '../../src/private/validation';

/*
 * The machinery of the hostile-input suite: values that have broken configuration generators
 * before, generators of more, and the checks that a value is either refused with the library's
 * error or carried into the boot script, NGINX and systemd exactly as meant.
 */

// ---------------------------------------------------------------------------------------------
// Values

/** Strings that have broken shell, NGINX, systemd or path handling somewhere, with what each is. */
export const HOSTILE_STRINGS: Array<[string, string]> = [
  ['a directive after a host name', 'api.example.com; return 200 hacked'],
  ['a newline, a heredoc marker, then a root command', 'x\nCDK_THREE_TIER_EOF\ntouch /tmp/pwned'],
  ['the app heredoc marker', 'x\nCDK_THREE_TIER_APP_EOF\ntouch /tmp/pwned\n'],
  ['a Windows path with a trailing backslash', 'C:\\data\\'],
  ['a backslash before a newline', 'a\\\nb'],
  ['a single quote', "'"],
  ['a quote that closes and reopens', "'; touch /tmp/pwned; '"],
  ['a double quote', '"'],
  ['a parent directory', '../'],
  ['a path through parents', '/srv/../../etc/shadow'],
  ['a systemd specifier', '%Q'],
  ['systemd specifiers', '%n%h%%'],
  ['a command substitution', '$(id)'],
  ['backquotes', '`id`'],
  ['a shell variable', '${HOME}'],
  ['an NGINX variable', '$host'],
  ['token-looking text', '${Token[TOKEN.987654321]}'],
  ['token-looking text of a pseudo parameter', '${Token[AWS.Region.987654321]}'],
  ['unicode', 'Grüße 日本語 🎉'],
  ['a right-to-left override', '\u202Eabc'],
  ['a byte order mark', '\uFEFFx'],
  ['a line separator', 'a\u2028b'],
  ['a Unicode noncharacter', 'x\uFFFF'],
  ['a lone surrogate', 'x\uD800'],
  ['trailing spaces', 'value   '],
  ['leading spaces', '   value'],
  ['tabs', '\tvalue\t'],
  ['a carriage return', 'a\rb'],
  ['control characters', '\x01\x1b[31m\x7f'],
  ['20 KB', 'a'.repeat(20 * 1024)],
  ['20 KB of quotes and backslashes', '\'"\\'.repeat(7 * 1024)],
  ['a NUL byte', 'a\0b'],
  ['an opening brace', '{'],
  ['a closing brace', '}'],
  ['a block', 'x { return 200 hacked; }'],
  ['a hash', '#'],
  ['a comment after a value', 'x # comment'],
  ['a semicolon', ';'],
  ['a space', ' '],
  ['the empty string', ''],
  ['an equals sign', 'A=B'],
  ['a glob', '*'],
  ['a UNIX socket', 'unix:/tmp/x.sock'],
  ['an include', 'x; include /etc/passwd'],
  ['a URL', 'http://evil.example/'],
];

/** Values of the wrong type, as plain JavaScript callers can pass them. */
export const WRONG_TYPES: Array<[string, unknown]> = [
  ['null', null],
  ['a number', 42],
  ['an object', { toString: () => 'x' }],
  ['an array', ['x']],
  ['a boolean', true],
];

/** Numbers that break integer, port and range handling. */
export const HOSTILE_NUMBERS: Array<[string, number]> = [
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['minus zero', -0],
  ['zero', 0],
  ['minus one', -1],
  ['a fraction', 8080.5],
  ['a tiny fraction', 1e-9],
  ['2^31', 2 ** 31],
  ['2^53 + 2', 2 ** 53 + 2],
  ['1e21 (written with an exponent)', 1e21],
  ['65536', 65536],
  ['1023', 1023],
];

/**
 * The hostile strings as they are, and each set into an otherwise valid value of the prop's shape
 * (`shape(bad)`), so a grammar that only looks at the start or the end is caught too.
 */
export function hostileVariants(shape?: (bad: string) => string): Array<[string, string]> {
  const plain = HOSTILE_STRINGS;
  if (!shape) return plain;
  return [...plain, ...plain.map(([label, v]): [string, string] => [`${label}, inside a valid value`, shape(v)])];
}

/** A string arbitrary that mostly draws from `valid` characters, sometimes from anything. */
export function shaped(valid: string, options: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> {
  const special = fc.constantFrom(...' \t\n\r;{}#\'"`$\\%~*=:@/.\0\u00e9\u202e\uffff\ud800'.split(''));
  const char = fc.oneof({ arbitrary: fc.constantFrom(...valid.split('')), weight: 12 }, { arbitrary: special, weight: 1 });
  return fc.stringOf(char, { minLength: options.minLength ?? 0, maxLength: options.maxLength ?? 40 });
}

/** Any string: ASCII, full Unicode, UTF-16 with lone surrogates, and the known-bad ones. */
export function anyString(maxLength = 40): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength }),
    fc.fullUnicodeString({ maxLength }),
    fc.string16bits({ maxLength }),
    fc.constantFrom(...HOSTILE_STRINGS.map(([, v]) => v)),
  );
}

export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const ALNUM = `${LOWER}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789`;

/** Host names, mostly valid (labels of letters, digits and inner hyphens). */
export function hostnameish(): fc.Arbitrary<string> {
  const label = shaped(`${LOWER}0123456789-`, { minLength: 1, maxLength: 12 });
  return fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
}

/** URL paths, mostly valid. */
export function urlPathish(): fc.Arbitrary<string> {
  return shaped(`${ALNUM}._~-/`, { maxLength: 30 }).map((p) => `/${p}`);
}

/** Absolute file paths, mostly valid. */
export function absPathish(): fc.Arbitrary<string> {
  return fc.array(shaped(`${ALNUM}_.+@-`, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
}

/** A number: any integer, any double, or a known-bad one. */
export function anyNumber(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min, max }),
    fc.integer({ min: -100000, max: 100000 }),
    fc.double(),
    fc.constantFrom(...HOSTILE_NUMBERS.map(([, v]) => v)),
  );
}

/** A fixed seed per property name, so every run draws the same cases. */
export function seedOf(name: string): number {
  return createHash('sha256').update(name).digest().readInt32LE(0);
}

// ---------------------------------------------------------------------------------------------
// Counting

/** How many inputs were tried, refused with the library's error, and carried safely. */
export class Tally {
  private readonly rows = new Map<string, { tried: number; rejected: number; safe: number }>();

  public record(group: string, outcome: 'rejected' | 'safe'): void {
    const row = this.rows.get(group) ?? { tried: 0, rejected: 0, safe: 0 };
    row.tried++;
    row[outcome]++;
    this.rows.set(group, row);
  }

  public get total(): { tried: number; rejected: number; safe: number } {
    let tried = 0;
    let rejected = 0;
    let safe = 0;
    for (const r of this.rows.values()) {
      tried += r.tried;
      rejected += r.rejected;
      safe += r.safe;
    }
    return { tried, rejected, safe };
  }

  public summary(): string {
    const t = this.total;
    const lines = [...this.rows.entries()].map(([g, r]) => `  ${g}: ${r.tried} tried, ${r.rejected} rejected, ${r.safe} proved safe`);
    return [`hostile-input suite: ${t.tried} inputs tried, ${t.rejected} rejected with the library's error, ${t.safe} proved safe`, ...lines].join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** A prop an error may name for an input, the value it shows (undefined: any) and the construct path (undefined: a pure renderer). */
export interface AllowedError {
  readonly prop: string;
  readonly values?: unknown[];
  readonly path?: string;
}

/**
 * Problems with an error thrown for a hostile input: it must be in the library's format
 * `<prop> (<value>) <allowed> in <path>` (without ` in <path>` for the pure renderers), naming one of
 * the allowed props with the value it was given, at the allowed construct path (or a child of it).
 * Validation errors collected at synth (`[path] message`) are unwrapped first.
 */
export function errorProblems(error: unknown, allowed: AllowedError[]): string[] {
  if (!(error instanceof Error)) return [`threw a non-error: ${String(error)}`];
  let messages = [error.message];
  const collected = [...error.message.matchAll(/^\s*\[([^\]\n]+)\] (.*)$/gm)];
  if (/^Validation failed/.test(error.message) && collected.length > 0) messages = collected.map((m) => m[2]);
  const problems: string[] = [];
  for (const message of messages) {
    const fits = allowed.some((a) => {
      const heads = a.values === undefined ? [`${a.prop} (`] : a.values.map((v) => `${a.prop} (${formatValue(v)}) `);
      return heads.some((head) => {
        if (!message.startsWith(head)) return false;
        const rest = message.slice(head.length);
        if (a.path === undefined) return /\S/.test(rest) && !/ in [A-Za-z0-9]+\/[A-Za-z0-9/]*$/.test(rest);
        const escaped = a.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        return new RegExp(`\\S[\\s\\S]* in ${escaped}(/[A-Za-z0-9/]*)?(: [\\s\\S]*)?$`).test(rest);
      });
    });
    if (!fits) {
      const expected = allowed.map((a) => `${a.prop}${a.path ? ` in ${a.path}` : ''}`).join(' or ');
      problems.push(`error not in the library's format for ${expected}: ${JSON.stringify(message.slice(0, 600))}`);
    }
  }
  return problems;
}

/** A size error of the user data: allowed for inputs of several kilobytes, whatever prop carries them. */
export function userDataError(constructPath: string): AllowedError {
  return { prop: 'user data', path: constructPath };
}

/** The UTF-8 size of a value and everything in it. */
export function byteSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + byteSize(v), 0);
  if (value && typeof value === 'object') return Object.entries(value).reduce((n, [k, v]) => n + byteSize(k) + byteSize(v), 0);
  return String(value).length;
}

// ---------------------------------------------------------------------------------------------
// Stacks

/** Apps whose cloud assemblies go into one temporary directory, removed by `dispose`. */
export class TestApps {
  private readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
  private count = 0;

  public stack(): Stack {
    const app = new App({ outdir: path.join(this.root, `app-${this.count++}`) });
    return new Stack(app, 'Stack', { env: ENV });
  }

  /** A directory with one small file (a seed or site asset). */
  public assetDirectory(): string {
    const dir = path.join(this.root, `asset-${this.count++}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'file.txt'), 'seed\n');
    return dir;
  }

  public dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** Renders every CloudFormation intrinsic as a short name made of letters and digits (stable per intrinsic). */
export function tokenName(token: any): string {
  return `tok${createHash('sha256').update(JSON.stringify(token)).digest('hex').slice(0, 10)}`;
}

/** Resolves a value that may hold tokens to the text the instance sees, tokens named by `tokenName`. */
export function resolvedText(stack: Stack, value: string): string {
  return flatten(stack.resolve(value), tokenName);
}

/** The user data of every launch template of a template, by logical ID, tokens named by `tokenName`. */
export function userDataScripts(template: Template): Map<string, string> {
  const scripts = new Map<string, string>();
  for (const lt of resourcesOfType(template, 'AWS::EC2::LaunchTemplate')) {
    if (lt.properties.LaunchTemplateData?.UserData !== undefined) scripts.set(lt.id, launchTemplateUserData(template, lt.id, tokenName));
  }
  return scripts;
}

// ---------------------------------------------------------------------------------------------
// Checks of what is accepted

/**
 * Checks that need another program (`bash -n`, systemd's parser), collected while cases run and
 * made in one process each by `flush`: starting a process from a large test worker costs more than
 * the check itself.
 */
export class DeferredChecks {
  private scripts: Array<[string, string]> = [];
  private environments: Array<{ label: string; actual: string; base: string; overrides: Record<string, string> }> = [];

  /** The script must pass `bash -n`. */
  public bash(label: string, script: string): void {
    this.scripts.push([label, script]);
  }

  /**
   * The environment file must read back through systemd as the base file's variables (what the tier
   * sets) with `overrides` (what the user set) on top, exactly: no variable more, none less.
   */
  public environment(label: string, actual: string, base: string, overrides: Record<string, string>): void {
    this.environments.push({ label, actual, base, overrides });
  }

  /** Runs every collected check; returns the problems. */
  public flush(systemd: SystemdEnvParser): string[] {
    const problems = [...this.flushBash(), ...this.flushEnvironments(systemd)];
    this.scripts = [];
    this.environments = [];
    return problems;
  }

  private flushBash(): string[] {
    if (this.scripts.length === 0) return [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bash-n-'));
    try {
      const files = this.scripts.map(([, script], i) => {
        const file = path.join(dir, `${i}.sh`);
        fs.writeFileSync(file, script);
        return file;
      });
      const loop = 'for f in "$@"; do out=$(bash -n "$f" 2>&1) || printf \'%s\\0%s\\0\' "$f" "$out"; done';
      const result = spawnSync('bash', ['-c', loop, 'bash', ...files], { maxBuffer: 64 * 1024 * 1024 });
      if (result.error) throw result.error;
      const parts = result.stdout.toString('utf8').split('\0');
      const problems: string[] = [];
      for (let i = 0; i + 1 < parts.length; i += 2) {
        const index = files.indexOf(parts[i]);
        problems.push(`${this.scripts[index][0]}: bash -n: ${parts[i + 1].trim()}`);
      }
      return problems;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private flushEnvironments(systemd: SystemdEnvParser): string[] {
    if (this.environments.length === 0) return [];
    const bases = [...new Set(this.environments.map((e) => e.base))];
    const parsed = systemd.parse([...bases, ...this.environments.map((e) => e.actual)]);
    const baseParsed = new Map(bases.map((b, i) => [b, parsed[i]]));
    const problems: string[] = [];
    this.environments.forEach((e, i) => {
      const base = baseParsed.get(e.base)!;
      if (base.status !== 0) {
        problems.push(`${e.label}: systemd refuses the intended environment file (${base.status})`);
        return;
      }
      const intended = { ...Object.fromEntries(base.entries), ...e.overrides };
      problems.push(...environmentProblems(parsed[bases.length + i], intended).map((p) => `${e.label}: ${p}`));
    });
    return problems;
  }
}

const WRITE_LINE = /^printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d > '([^']+)'$/;

/** What a file-specific check says about one file the boot script writes (problems, empty when fine). */
export type FileCheck = (actual: string, base: string, alt: string) => string[];

/**
 * Compares a boot script with the script the library means to write, known from two scripts with
 * neutral inputs (`base`, `alt`): every line must be the base line, or, where base and alt differ,
 * the base line with each neutral value replaced by the user's (single-quote escaped: the values sit
 * in single-quoted words). Files are compared by `fileChecks` for their path, or else the same way.
 * Token arguments (`"$(printf '%s' BASE64 | base64 -d)"`) are compared decoded.
 */
export function scriptProblems(
  actual: string, base: string, alt: string,
  pairs: Array<[string, string]>, fileChecks: Record<string, FileCheck>,
): string[] {
  const problems: string[] = [];
  const inShell = substitution(pairs.map(([n, v]) => [n, v.replace(/'/g, "'\\''")]));
  const plain = substitution(pairs);
  const lines = (s: string) => decodeShellArgs(s).split('\n').map((l) => l.replace(WRITE_LINE, (_, _b64, p) => `WRITE ${p}`));
  const [a, b, c] = [lines(actual), lines(base), lines(alt)];
  if (a.length !== b.length || b.length !== c.length) {
    return [`the script has ${a.length} lines, intended ${b.length}: ${JSON.stringify(a.filter((l) => !b.includes(l)).slice(0, 5))}`];
  }
  a.forEach((line, i) => {
    const intended = b[i] === c[i] ? b[i] : inShell(b[i]);
    if (line !== intended) problems.push(`script line ${i + 1}: ${JSON.stringify(line.slice(0, 300))}, intended ${JSON.stringify(intended.slice(0, 300))}`);
  });
  const [fa, fb, fc2] = [bootFiles(actual), bootFiles(base), bootFiles(alt)];
  const basePaths = [...fb.keys()];
  const intendedPaths = basePaths.map((p) => (fc2.has(p) ? p : plain(p)));
  if (JSON.stringify([...fa.keys()]) !== JSON.stringify(intendedPaths)) {
    problems.push(`the script writes ${JSON.stringify([...fa.keys()])}, intended ${JSON.stringify(intendedPaths)}`);
    return problems;
  }
  basePaths.forEach((p, i) => {
    const altPath = [...fc2.keys()][i];
    const check = fileChecks[p];
    const actualContent = fa.get(intendedPaths[i])!;
    if (check) {
      problems.push(...check(actualContent, fb.get(p)!, fc2.get(altPath)!).map((m) => `${p}: ${m}`));
    } else {
      const intended = fb.get(p) === fc2.get(altPath) ? fb.get(p)! : plain(fb.get(p)!);
      if (actualContent !== intended) problems.push(`${intendedPaths[i]} holds ${JSON.stringify(actualContent.slice(0, 300))}, intended ${JSON.stringify(intended.slice(0, 300))}`);
    }
  });
  return problems;
}

/** An NGINX configuration compared with the intended tree (see `structureDifferences`). */
export function nginxProblems(actual: string, base: string, alt: string, pairs: Array<[string, string]>): string[] {
  let tree: NginxDirective[];
  try {
    tree = parseNginx(actual);
  } catch (e) {
    return [`the NGINX configuration does not parse: ${(e as Error).message}`];
  }
  return structureDifferences(tree, parseNginx(base), parseNginx(alt), substitution(pairs));
}

/** Problems of an environment file as systemd read it, against the intended variables. */
export function environmentProblems(parsed: ParsedEnvironment, intended: Record<string, string>): string[] {
  if (parsed.status !== 0) return [`systemd refuses the environment file (load_env_file returned ${parsed.status}): the unit would not start`];
  const names = parsed.entries.map(([n]) => n);
  if (new Set(names).size !== names.length) return [`systemd reads a name twice: ${JSON.stringify(names)}`];
  const got = Object.fromEntries(parsed.entries);
  const problems: string[] = [];
  for (const name of [...new Set([...Object.keys(got), ...Object.keys(intended)])].sort()) {
    if (got[name] !== intended[name]) {
      problems.push(`systemd reads ${name}=${JSON.stringify(got[name]?.slice(0, 200))}, intended ${JSON.stringify(intended[name]?.slice(0, 200))}`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// nginx -t, many configurations in parallel

/** The nginx binary: `NGINX_BIN`, on PATH, or where distributions put it. */
export function findNginx(): string | undefined {
  const candidates = [
    process.env.NGINX_BIN,
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'nginx')),
    '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/opt/homebrew/bin/nginx',
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

const TEMP_PATH_DIRECTIVES = new Set(['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path']);

/** What `localNginxConfig` points somewhere else than the instance does. */
export interface LocalNginxOverrides {
  /** `host:port` of the upstream (default: 127.0.0.1 with the configured port). */
  readonly upstream?: string;
  /** The CA bundle NGINX verifies the upstream with (default: one public root). */
  readonly caFile?: string;
  /** The static site's directory (default: as configured). */
  readonly root?: string;
}

/**
 * The configuration as `nginx -t` can check it on a test machine: what needs the instance's file
 * system or network is pointed into `dir` (pid, logs, temp paths, mime.types, the CA bundle), at
 * 127.0.0.1 (upstream hosts, which NGINX resolves when it loads) or at a free local port (`listen`:
 * `nginx -t` binds its sockets), and the `user` directive is dropped (the instance's user does not
 * exist here). Every other word is checked as the instance gets it.
 */
export function localNginxConfig(config: string, dir: string, port: number, overrides: LocalNginxOverrides = {}): string {
  const tree = parseNginx(config);
  fs.writeFileSync(path.join(dir, 'mime.types'), 'types {\n  text/html html;\n  text/plain txt;\n}\n');
  fs.writeFileSync(path.join(dir, 'ca.pem'), `${tls.rootCertificates[0]}\n`);
  const rewrite = (directives: NginxDirective[], parents: string[]): NginxDirective[] => directives
    .filter((d) => d.name !== 'user')
    .map((d) => {
      const args = [...d.args];
      const put = (i: number, value: string) => { args[i] = bareWord(value); };
      if (d.name === 'pid') put(0, path.join(dir, 'nginx.pid'));
      if (d.name === 'error_log') put(0, path.join(dir, 'error.log'));
      if (d.name === 'access_log' && args[0].value !== 'off') put(0, path.join(dir, 'access.log'));
      if (d.name === 'include') put(0, path.join(dir, 'mime.types'));
      if (TEMP_PATH_DIRECTIVES.has(d.name)) put(0, path.join(dir, d.name));
      if (d.name === 'proxy_ssl_trusted_certificate') put(0, overrides.caFile ?? path.join(dir, 'ca.pem'));
      if (d.name === 'listen') put(0, `127.0.0.1:${port}`);
      if (d.name === 'root' && overrides.root) put(0, overrides.root);
      if (d.name === 'server' && parents[parents.length - 1] === 'upstream') {
        const upstreamPort = /:([0-9]+)$/.exec(args[0].value);
        put(0, overrides.upstream ?? `127.0.0.1:${upstreamPort ? upstreamPort[1] : '80'}`);
      }
      return { ...d, args, block: d.block ? rewrite(d.block, [...parents, d.name]) : undefined };
    });
  return serializeNginx(rewrite(tree, []));
}

/**
 * Configurations checked with `nginx -t`, each in its own directory. Checks start in the background
 * as configurations arrive, a batch at a time, each batch run by one shell loop (starting processes
 * from the test worker itself costs more than the checks), so they overlap the synthesis of later
 * cases; `run` waits for all and returns the failures. Identical configurations are checked once.
 */
export class NginxTestQueue {
  private readonly seen = new Set<string>();
  private pending: Array<[string, string]> = [];
  private readonly batches: Array<Promise<string[]>> = [];
  private root?: string;
  private count = 0;
  private readonly firstPort = 20000 + Math.floor(Math.random() * 20000);

  constructor(private readonly batchSize = 25) {}

  public add(label: string, config: string): void {
    if (this.seen.has(config)) return;
    this.seen.add(config);
    this.pending.push([label, config]);
    if (this.pending.length >= this.batchSize) this.startBatch();
  }

  /** How many distinct configurations were queued. */
  public get size(): number {
    return this.seen.size;
  }

  /** Waits for every check; returns the failures (each with its configuration's label). */
  public async run(): Promise<string[]> {
    this.startBatch();
    const failures = (await Promise.all(this.batches)).flat();
    this.batches.length = 0;
    return failures;
  }

  /** Waits for checks still running and removes the directories. */
  public async dispose(): Promise<void> {
    await Promise.all(this.batches);
    if (this.root) fs.rmSync(this.root, { recursive: true, force: true });
  }

  private startBatch(): void {
    if (this.pending.length === 0) return;
    const nginx = findNginx();
    if (!nginx) throw new Error('nginx is not installed (e.g. apt-get install -y nginx): the NGINX configurations cannot be checked');
    this.root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'nginx-t-'));
    const labels = new Map<string, string>();
    const dirs = this.pending.map(([label, config]) => {
      const n = this.count++;
      const dir = path.join(this.root!, String(n));
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'nginx.conf'), localNginxConfig(config, dir, this.firstPort + (n % 20000)));
      labels.set(dir, label);
      return dir;
    });
    this.pending = [];
    const loop = 'for d in "$@"; do out=$("$NGINX_BINARY" -t -q -p "$d/" -e "$d/error.log" -c "$d/nginx.conf" 2>&1) || printf \'%s\\0%s\\0\' "$d" "$out"; rm -rf "$d"; done';
    this.batches.push(run('bash', ['-c', loop, 'bash', ...dirs], { ...process.env, NGINX_BINARY: nginx }).then(({ status, stdout, stderr }) => {
      const failures: string[] = [];
      if (status !== 0) failures.push(`the nginx -t loop failed (${status}): ${stderr.slice(0, 500)}`);
      const parts = stdout.split('\0');
      for (let i = 0; i + 1 < parts.length; i += 2) failures.push(`${labels.get(parts[i])}: nginx -t failed: ${parts[i + 1].trim().slice(0, 500)}`);
      return failures;
    }));
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
