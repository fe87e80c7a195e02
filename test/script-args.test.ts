import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The tasks that take arguments accept them the way the README writes them (`npx projen TASK --
 * --flag`): each form, run for real through projen with `--help` added, exits 0 with the usage
 * line, so its arguments parsed. Nothing is deployed.
 */
const ROOT = path.join(__dirname, '..');
const TASKS = ['demo', 'deploy:test', 'cost'];

/** Every `npx projen TASK -- ...` command of the README, for the tasks above. */
function readmeForms(): string[][] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  // A flag may take a value (`--example dev`).
  const forms = [...readme.matchAll(/npx projen ([a-z:]+)((?: -{1,2}[a-z-]*(?: [a-z0-9][a-z0-9-]*(?=[\s`]|$))?)*)/g)]
    .filter((m) => TASKS.includes(m[1]))
    .map((m) => [m[1], ...m[2].trim().split(/\s+/).filter(Boolean)]);
  return forms;
}

function run(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('npx', ['projen', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const forms = readmeForms();
const cases: string[][] = [
  ...forms.map((f) => [...f, ...(f.includes('--') ? [] : ['--']), '--help']),
  ...TASKS.map((t) => [t, '--', '--help']),
].filter((c, i, all) => all.findIndex((o) => o.join(' ') === c.join(' ')) === i);

test('the README shows argument forms of demo', () => {
  expect(forms.some((f) => f[0] === 'demo' && f.includes('--keep'))).toBe(true);
});

test.each(cases.map((c) => [c.join(' '), c]))('npx projen %s exits 0 with the usage line', (_name, args) => {
  const { status, output } = run(args as string[]);
  expect(output).toContain(`usage: npx projen ${(args as string[])[0]} `);
  expect(status).toBe(0);
}, 120_000);

test.each(TASKS)('npx projen %s -- --no-such-flag exits 1 naming the flag, with the usage line', (task) => {
  const { status, output } = run([task, '--', '--no-such-flag']);
  expect(output).toMatch(/Unknown option '--no-such-flag'/);
  expect(output).toContain(`usage: npx projen ${task} `);
  expect(status).toBe(1);
}, 120_000);
