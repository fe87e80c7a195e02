import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Fn, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as fc from 'fast-check';
import { AppSource, AppTier, Preset } from '../src';
import { HOSTILE_STRINGS, resolvedText, seedOf, TestApps, tokenName } from './support/hostile';
import { ParsedEnvironment, SystemdEnvParser } from './support/systemd-env';
import { bootFile, launchTemplateUserData, onlyResource } from './support/template';
import { renderAppUnit, renderStartScript } from '../src/app/boot';
import { environmentNameProblem, environmentValueProblem, renderEnvironmentFile, systemdEnvironmentValue } from '../src/private/systemd';
import { RERESOLVE_SERVICE, RERESOLVE_TIMER } from '../src/web/boot';

/*
 * The app's environment file, read back by systemd's own parser (the shared library behind
 * EnvironmentFile=, through a small C helper) and handed to a process started with exactly that
 * environment: every value arrives byte for byte.
 */

let systemd: SystemdEnvParser;
const apps = new TestApps();
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'env-roundtrip-'));

beforeAll(() => {
  systemd = SystemdEnvParser.create();
});

afterAll(() => {
  systemd?.dispose();
  apps.dispose();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A start command that prints the environment it gets, as JSON. */
const PRINT_ENVIRONMENT = "node -e 'process.stdout.write(JSON.stringify(process.env))'";

/** PATH as app.service sets it (`Environment=PATH=...`), with this machine's node directory first. */
function unitPath(): string {
  const line = renderAppUnit().split('\n').find((l) => l.startsWith('Environment=PATH='));
  if (!line) throw new Error('app.service sets no PATH');
  return `${path.dirname(process.execPath)}:${line.slice('Environment=PATH='.length)}`;
}

/**
 * Starts `/bin/sh <start script>` once per environment, each with exactly that environment
 * (`env -i`, the list, and PATH as the unit sets it), and returns what each process saw. One shell
 * runs them all: the list goes to `env -i` through `xargs -0`, so values with newlines, quotes and
 * spaces pass as they are.
 */
function runStartScript(environments: Array<Array<[string, string]>>): Array<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
  try {
    const script = path.join(dir, 'start.sh');
    fs.writeFileSync(script, renderStartScript(PRINT_ENVIRONMENT), { mode: 0o755 });
    const lists = environments.map((entries, i) => {
      const file = path.join(dir, `env-${i}`);
      const items = [...entries.map(([n, v]) => `${n}=${v}`), `PATH=${unitPath()}`, '/bin/sh', script];
      fs.writeFileSync(file, Buffer.concat(items.map((item) => Buffer.from(`${item}\0`, 'utf8'))));
      return file;
    });
    const loop = 'for f in "$@"; do xargs -0 -x -a "$f" env -i > "$f.out" || echo "failed: $f" >&2; done';
    const result = spawnSync('bash', ['-c', loop, 'bash', ...lists], { cwd: dir, encoding: 'utf8' });
    if (result.error) throw result.error;
    expect(result.stderr).toBe('');
    return lists.map((f) => JSON.parse(fs.readFileSync(`${f}.out`, 'utf8')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What a process saw, minus PATH (set by the unit) and PWD (which /bin/sh exports itself). */
function userVisible(seen: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(seen).filter(([name]) => name !== 'PATH' && name !== 'PWD'));
}

/**
 * The documented refusals: NUL, broken Unicode, noncharacters (`environmentValueProblem`) and text
 * that looks like a token but is none (refused by the tier's token check).
 */
const accepted = (v: string) => environmentValueProblem(v) === undefined && !Token.isUnresolved(v);

/** Values that break environment files: each reads back exactly (the documented refusals aside). */
const VALUES: Array<[string, string]> = [
  ['a Windows path with a trailing backslash', 'C:\\data\\'],
  ['backslashes everywhere', '\\\\server\\share\\ \\n \\t \\" \\$ \\\\'],
  ['a trailing backslash', 'ends with \\'],
  ['double quotes', 'say "hi"'],
  ['single quotes', "it's 'quoted'"],
  ['both quotes, unbalanced', '"\'"'],
  ['a systemd specifier', '%Q %n %h %%'],
  ['shell expansions', '$HOME ${PATH} $(id) `id`'],
  ['unicode', 'Grüße 日本語 🎉 \u202Eabc'],
  ['leading and trailing spaces', '   padded   '],
  ['tabs', '\tx\t'],
  ['newlines', 'line 1\nline 2\n'],
  ['only a newline', '\n'],
  ['CR LF', 'a\r\nb'],
  ['a hash', '# not a comment'],
  ['a semicolon', 'a; b'],
  ['equals signs', 'a=b=c'],
  ['the empty string', ''],
  ['control characters', '\x01\x1b[31m\x7f'],
  ['a backslash before a newline', 'a\\\nb'],
  ['an escaped quote at the end', 'x\\"'],
  ...HOSTILE_STRINGS.filter(([, v]) => accepted(v) && Buffer.byteLength(v) < 4096).map(([label, v]): [string, string] => [`known-bad: ${label}`, v]),
];

/** Names and values as the library accepts them: the generators are filtered only by the documented refusals. */
const NAME = fc.stringOf(fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_'.split('')), { minLength: 1, maxLength: 20 })
  .filter((n) => environmentNameProblem(n) === undefined);
const VALUE = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.fullUnicodeString({ maxLength: 60 }),
  fc.stringOf(fc.constantFrom(...'\\"\'`$%#;= \t\n\r{}'.split('')), { maxLength: 30 }),
  fc.constantFrom(...VALUES.map(([, v]) => v)),
).filter(accepted);
const ENVIRONMENT = fc.dictionary(NAME, VALUE, { minKeys: 1, maxKeys: 8 });

function expectExactly(parsed: ParsedEnvironment, environment: Record<string, string>): void {
  expect(parsed.status).toBe(0);
  expect(parsed.entries.map(([n]) => n)).toEqual(Object.keys(environment).sort());
  expect(Object.fromEntries(parsed.entries)).toEqual(environment);
}

describe("systemd's parser reads the environment file as written", () => {
  test('the helper really is systemd: the old unescaped format loses C:\\data\\ and the line after it', () => {
    const old = 'DATA_DIR=C:\\data\\\nMODE=strict\n';
    const [parsed] = systemd.parse([old]);
    expect(parsed.status).toBe(0);
    const got = Object.fromEntries(parsed.entries);
    expect(got.DATA_DIR).not.toBe('C:\\data\\');
    expect(got.MODE).toBeUndefined();
    expect(got.DATA_DIR).toBe('C:dataMODE=strict');
    // The same variables in the format the library writes come back exactly.
    const [escaped] = systemd.parse([renderEnvironmentFile({ DATA_DIR: 'C:\\data\\', MODE: 'strict' })]);
    expectExactly(escaped, { DATA_DIR: 'C:\\data\\', MODE: 'strict' });
  });

  test('systemd refuses a whole file with a Unicode noncharacter (why the library refuses such values)', () => {
    const [parsed] = systemd.parse(['A="x\uFFFF"\nB="ok"\n']);
    expect(parsed.status).toBeLessThan(0);
    expect(environmentValueProblem('x\uFFFF')).toMatch(/noncharacter/);
  });

  test.each(VALUES)('%s', (_, value) => {
    const [parsed] = systemd.parse([renderEnvironmentFile({ BEFORE: 'before', VALUE: value, AFTER: 'after' })]);
    expectExactly(parsed, { AFTER: 'after', BEFORE: 'before', VALUE: value });
  });

  test('generated environments (fast-check, filtered only by the documented refusals) read back exactly', () => {
    const samples = fc.sample(ENVIRONMENT, { seed: seedOf('env-roundtrip.parse'), numRuns: 300 });
    const parsed = systemd.parse(samples.map(renderEnvironmentFile));
    const wrong = samples.filter((env, i) => JSON.stringify(parsed[i].entries) !== JSON.stringify(Object.keys(env).sort().map((n) => [n, env[n]])));
    expect(wrong).toEqual([]);
  });

  test('a token value keeps the escaped text around it and the value it resolves to', () => {
    const stack = apps.stack();
    const value = `C:\\data\\ "${Fn.getAtt('Database', 'Endpoint.Address').toString()}" $HOME`;
    const content = resolvedText(stack, `X=${systemdEnvironmentValue(value)}\n`);
    const [parsed] = systemd.parse([content]);
    expectExactly(parsed, { X: `C:\\data\\ "${tokenName({ 'Fn::GetAtt': ['Database', 'Endpoint.Address'] })}" $HOME` });
  });
});

describe('the process gets exactly that environment', () => {
  test('hand-written values: the start script runs with each value byte for byte', () => {
    const environment = Object.fromEntries(VALUES.map(([, v], i) => [`V${i}`, v]));
    const [parsed] = systemd.parse([renderEnvironmentFile(environment)]);
    expectExactly(parsed, environment);
    const [seen] = runStartScript([parsed.entries]);
    expect(userVisible(seen)).toEqual(environment);
    for (const [name, value] of Object.entries(environment)) expect(Buffer.from(seen[name], 'utf8').equals(Buffer.from(value, 'utf8'))).toBe(true);
    expect(seen.PATH).toBe(unitPath());
  });

  test('generated environments (fast-check): file, systemd, process, byte for byte', () => {
    const samples = fc.sample(ENVIRONMENT, { seed: seedOf('env-roundtrip.process'), numRuns: 20 });
    const parsed = systemd.parse(samples.map(renderEnvironmentFile));
    parsed.forEach((p, i) => expectExactly(p, samples[i]));
    const seen = runStartScript(parsed.map((p) => p.entries));
    seen.forEach((s, i) => expect(userVisible(s)).toEqual(samples[i]));
  });

  test('end to end through the app tier: the boot script writes the file, systemd reads it, the process sees it', () => {
    const stack = apps.stack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-11111111', 'subnet-22222222'],
    });
    const environment = Object.fromEntries(VALUES.filter(([, v]) => Buffer.byteLength(v) < 200).map(([, v], i) => [`V${i}`, v]));
    new AppTier(stack, 'Api', { vpc, preset: Preset.dev(), waf: false, source: AppSource.fromInline('x'), environment, startCommand: PRINT_ENVIRONMENT });
    const template = Template.fromStack(stack);
    const script = launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id, tokenName);
    expect(bootFile(script, '/etc/cdk-three-tier/start.sh')).toBe(renderStartScript(PRINT_ENVIRONMENT));
    const [parsed] = systemd.parse([bootFile(script, '/etc/cdk-three-tier/app.env')]);
    expect(parsed.status).toBe(0);
    const tier = { PORT: '8080', NODE_ENV: 'production', AWS_REGION: tokenName({ Ref: 'AWS::Region' }) };
    expect(Object.fromEntries(parsed.entries)).toEqual({ ...environment, ...tier });
    const [seen] = runStartScript([parsed.entries]);
    expect(userVisible(seen)).toEqual({ ...environment, ...tier });
  });
});

describe('systemd-analyze verify accepts the unit files the instances get', () => {
  const verify = (files: Record<string, string>) => {
    const dir = fs.mkdtempSync(path.join(scratch, 'units-'));
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    const result = spawnSync('systemd-analyze', ['verify', ...Object.keys(files).map((n) => path.join(dir, n))], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    if (result.error) throw new Error(`systemd-analyze could not run (install systemd): ${result.error.message}`);
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  };

  test('app.service', () => {
    const result = verify({ 'app.service': renderAppUnit() });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  test('nginx-reresolve.service and its timer', () => {
    const result = verify({ 'nginx-reresolve.service': RERESOLVE_SERVICE, 'nginx-reresolve.timer': RERESOLVE_TIMER });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  test('a misspelt key is reported (the check is real)', () => {
    const result = verify({ 'app.service': renderAppUnit().replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes') });
    expect(result.output).toMatch(/Unknown key 'NoNewPrivilege'/);
  });
});
