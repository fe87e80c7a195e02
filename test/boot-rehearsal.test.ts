import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Token } from 'aws-cdk-lib';
import { exampleEnv, PLACEHOLDER_API } from '../examples/common';
import { HOSTILE_STRINGS } from './support/hostile';
import { fileAssets, publishAssets, readStack } from '../scripts/lib/assembly';
import { clientsFor, Clients } from '../scripts/lib/aws';
import { adaptTemplateForEmulator, ensureSsmParameters } from '../scripts/lib/emulator';
import { rehearsalPrerequisites } from '../scripts/lib/rehearsal/instance';
import { platformLayout, PlatformRehearsal, PlatformRehearsalOptions, rehearsalProblems, rehearsePlatform } from '../scripts/lib/rehearsal/rehearse';
import { resolveIntrinsics, resolvedUserData, tokenValuesFromStack, TokenValues, userDataNode } from '../scripts/lib/rehearsal/resolve';
import { createStack } from '../scripts/lib/stack';
import { MotoServer, startMoto } from '../scripts/lib/tools';
import { AppSource, Preset, ThreeTierPlatform, ThreeTierPlatformProps } from '../src';
import { APP_PATHS } from '../src/app/boot';
import { AGENT_PATHS } from '../src/private/cloudwatch-agent';
import { environmentValueProblem } from '../src/private/systemd';
import { WEB_PATHS } from '../src/web/boot';
// Drops aws-cdk-lib's deprecation warning about the NAT instance's key name (see the file).
import './support/stacks';

/*
 * Boot rehearsal: each fleet's real user data, from the synthesized template with its tokens
 * resolved to what an emulator (moto) deployment produced, runs unmodified as root in throw-away
 * namespaces on a copy-on-write view of this machine, with stand-ins only for what exists only on
 * EC2 (scripts/lib/rehearsal/README.md). Then the instance is checked for what it would have on
 * AWS. Needs root, moto_server, the aws CLI, nginx, systemd and gcc (.ci/run and
 * requirements-dev.txt install them).
 */

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-rehearsal-test-'));
const timings: string[] = [];
let moto: MotoServer;
let clients: Clients;

beforeAll(async () => {
  const missing = rehearsalPrerequisites();
  if (missing.length > 0) throw new Error(`this machine cannot rehearse boots: ${missing.join('; ')}`);
  moto = await startMoto();
  clients = clientsFor({ endpoint: moto.endpoint, region: REGION, emulator: true });
}, 90_000);

afterAll(async () => {
  await moto?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (timings.length) console.log(`boot rehearsal timings:\n  ${timings.join('\n  ')}`);
});

/** A stack built here, deployed to moto, with what the rehearsal needs. */
interface Deployed {
  readonly name: string;
  readonly stack: Stack;
  readonly platform: ThreeTierPlatform;
  readonly template: any;
  readonly stackId: string;
  readonly values: TokenValues;
}

const deployed = new Map<string, Promise<Deployed>>();

/** Synthesizes a platform stack (like examples/common.ts: placeholder account, us-east-1 AZs) and deploys it to moto, once per name. */
function deploy(name: string, stackName: string, props: ThreeTierPlatformProps): Promise<Deployed> {
  if (!deployed.has(name)) {
    deployed.set(name, (async () => {
      const started = Date.now();
      const outdir = path.join(tmp, name);
      const app = new App({ outdir });
      const stack = new Stack(app, stackName, { env: exampleEnv(app) });
      const platform = new ThreeTierPlatform(stack, 'Platform', props);
      app.synth();
      const synthesized = readStack(outdir, stackName);
      const adapted = adaptTemplateForEmulator(synthesized.template, { account: ACCOUNT, region: REGION });
      await publishAssets(clients.s3, fileAssets(synthesized, ACCOUNT, REGION, adapted.template), true);
      await ensureSsmParameters(clients.ssm, clients.ec2, adapted.template);
      const created = await createStack({
        cfn: clients.cfn,
        stackName,
        template: adapted.template,
        timeoutSeconds: 300,
        store: { s3: clients.s3, bucket: 'rehearsal-templates', createBucket: true, url: (key) => `https://s3.amazonaws.com/rehearsal-templates/${key}` },
      });
      const layout = platformLayout(synthesized.template);
      const values = await tokenValuesFromStack(clients, stackName, created.stackId,
        [userDataNode(synthesized.template, layout.web.launchTemplateId), userDataNode(synthesized.template, layout.app.launchTemplateId)],
        { account: ACCOUNT, region: REGION });
      timings.push(`${name}: synthesized and deployed to moto in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { name, stack, platform, template: synthesized.template, stackId: created.stackId, values };
    })());
  }
  return deployed.get(name)!;
}

/** The app's environment as the library means it (AppTier.environment), tokens resolved to the deployment's values. */
function intendedEnvironment(d: Deployed): Record<string, string> {
  const resolved = d.stack.resolve(d.platform.app.environment);
  return Object.fromEntries(Object.entries<any>(resolved).map(([k, v]) => [k, String(resolveIntrinsics(v, d.values))]));
}

async function rehearse(d: Deployed, extra: Partial<PlatformRehearsalOptions> = {}): Promise<PlatformRehearsal> {
  const started = Date.now();
  const r = await rehearsePlatform({
    name: d.name,
    clients,
    endpoint: moto.endpoint,
    account: ACCOUNT,
    region: REGION,
    stackName: d.stack.stackName,
    stackId: d.stackId,
    template: d.template,
    values: d.values,
    intendedEnvironment: intendedEnvironment(d),
    startCommand: 'node server.js',
    apiProbePath: '/api/hello',
    ...extra,
  });
  const fleets = [r.app, r.web].filter((f) => f).map((f) => `${f!.tier} ${(f!.durationMs / 1000).toFixed(1)} s (exit ${f!.exitCode})`);
  timings.push(`${d.name}${extra.breakUserData ? ' (broken)' : ''}: rehearsed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${fleets.join(', ')}`);
  return r;
}

/** The props of examples/<env>.ts. */
const EXAMPLES: Record<'dev' | 'staging' | 'prod', { stackName: string; props: () => ThreeTierPlatformProps }> = {
  dev: { stackName: 'ThreeTierDev', props: () => ({ preset: Preset.dev(), projectName: 'cdk-three-tier-example', app: { source: PLACEHOLDER_API } }) },
  staging: {
    stackName: 'ThreeTierStaging',
    props: () => ({ preset: Preset.staging(), projectName: 'cdk-three-tier-example', app: { source: PLACEHOLDER_API }, web: { allowHttpOnly: true } }),
  },
  prod: {
    stackName: 'ThreeTierProd',
    props: () => ({ preset: Preset.prod(), projectName: 'cdk-three-tier-example', app: { source: PLACEHOLDER_API }, web: { allowHttpOnly: true } }),
  },
};

/** The launch templates' user data of examples/<env>.ts as that file synthesizes it. */
function exampleUserData(example: string): Record<string, any> {
  const outdir = path.join(tmp, `example-${example}`);
  const previous = process.env.CDK_OUTDIR;
  process.env.CDK_OUTDIR = outdir;
  try {
    jest.isolateModules(() => {
      // The example synthesizes when it is loaded: that is what is compared.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(`../examples/${example}`);
    });
  } finally {
    if (previous === undefined) delete process.env.CDK_OUTDIR;
    else process.env.CDK_OUTDIR = previous;
  }
  const template = readStack(outdir).template;
  const layout = platformLayout(template);
  return { web: userDataNode(template, layout.web.launchTemplateId), app: userDataNode(template, layout.app.launchTemplateId) };
}

describe.each(Object.keys(EXAMPLES) as Array<keyof typeof EXAMPLES>)('the %s example', (example) => {
  test('the stack rehearsed here has the user data of the example file', async () => {
    const d = await deploy(example, EXAMPLES[example].stackName, EXAMPLES[example].props());
    const layout = platformLayout(d.template);
    expect({ web: userDataNode(d.template, layout.web.launchTemplateId), app: userDataNode(d.template, layout.app.launchTemplateId) })
      .toEqual(exampleUserData(example));
  }, 120_000);

  test('both fleets boot: files, units, env file, NGINX, the app behind the load balancer, signals, nothing else written', async () => {
    const d = await deploy(example, EXAMPLES[example].stackName, EXAMPLES[example].props());
    const r = await rehearse(d);
    expect(rehearsalProblems(r)).toEqual([]);
    expect([r.app!.exitCode, r.web!.exitCode]).toEqual([0, 0]);
    // Every check ran (none was left out for lack of input).
    expect(r.app!.checks.map((c) => c.name)).toEqual(expect.arrayContaining([
      expect.stringMatching(/env file parses with systemd's parser/), expect.stringMatching(/SUCCESS signal/), expect.stringMatching(/nothing written outside/),
      expect.stringMatching(/rsyslog rule and logrotate file are what the renderers produce/),
      expect.stringMatching(/agent configuration is what renderAgentConfig renders/), expect.stringMatching(/rsyslog runs from its unit/),
    ]));
    expect(r.web!.checks.map((c) => c.name)).toEqual(expect.arrayContaining([
      expect.stringMatching(/agent configuration is what renderAgentConfig renders for \/var\/log\/messages, \/var\/log\/nginx\//), expect.stringMatching(/rsyslog runs from its unit/),
    ]));
    expect(r.platform).toHaveLength(2);
  }, 240_000);
});

describe('a platform with every boot step: app from an asset, site, bucket seed, hostile environment values', () => {
  /**
   * Every string of the hostile-input suite that environment values may hold (validation refuses
   * the others at synth time; token-looking text is the suite's own case, and the 20 KB ones would
   * not fit in user data), one variable each.
   */
  const HOSTILE_ENV: Record<string, string> = Object.fromEntries(HOSTILE_STRINGS
    .filter(([, v]) => v.length <= 200 && environmentValueProblem(v) === undefined && !Token.isUnresolved(v))
    .map(([, v], i) => [`HOSTILE_${String(i).padStart(2, '0')}`, v]));
  const dirs = { app: path.join(tmp, 'asset-app'), site: path.join(tmp, 'asset-site'), seed: path.join(tmp, 'asset-seed') };

  beforeAll(() => {
    fs.mkdirSync(dirs.app, { recursive: true });
    fs.writeFileSync(path.join(dirs.app, 'server.js'), [
      "const http = require('http');",
      'http.createServer((req, res) => {',
      "  const body = req.url === '/healthz' ? { status: 'ok' } : req.url === '/api/hello' ? { hello: process.env.HOSTILE_00 } : undefined;",
      "  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });",
      "  res.end(JSON.stringify(body ?? { error: 'not found' }));",
      '}).listen(Number(process.env.PORT));',
      '',
    ].join('\n'));
    fs.mkdirSync(path.join(dirs.site, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(dirs.site, 'index.html'), '<!doctype html><title>store</title><p>rehearsed</p>\n');
    fs.writeFileSync(path.join(dirs.site, 'assets', 'app.css'), 'body { margin: 0 }\n');
    fs.mkdirSync(path.join(dirs.seed, 'images'), { recursive: true });
    fs.writeFileSync(path.join(dirs.seed, 'catalogue.json'), '{"products":[]}\n');
    fs.writeFileSync(path.join(dirs.seed, 'images', 'chair.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  });

  const props = (): ThreeTierPlatformProps => ({
    preset: Preset.dev(),
    projectName: 'cdk-three-tier-rehearsal',
    app: { source: AppSource.fromAsset(dirs.app), environment: HOSTILE_ENV },
    web: { siteAssetPath: dirs.site },
    applicationBucket: { seedAssetPath: dirs.seed, seedPrefix: 'products/' },
  });

  test('both fleets boot, the site is served, the seed is in the bucket, the env file carries every value exactly', async () => {
    const d = await deploy('full', 'ThreeTierRehearsal', props());
    const bucket = d.values.refs[(d.stack.getLogicalId(d.platform.applicationBucket!.node.defaultChild as any))];
    const r = await rehearse(d, {
      seed: { bucket, prefix: 'products/', files: new Map(['catalogue.json', 'images/chair.svg'].map((f) => [f, fs.statSync(path.join(dirs.seed, f)).size])) },
      keep: true,
    });
    try {
      expect(rehearsalProblems(r)).toEqual([]);
      expect(intendedEnvironment(d)).toEqual(expect.objectContaining(HOSTILE_ENV));
      const site = r.instances.web!.httpGet('http://127.0.0.1/assets/app.css');
      expect(site).toEqual(expect.objectContaining({ status: 200, body: 'body { margin: 0 }\n' }));
      expect(r.instances.web!.readFile(`${WEB_PATHS.siteRoot}/index.html`)?.toString()).toBe('<!doctype html><title>store</title><p>rehearsed</p>\n');
      expect(r.instances.app!.readFile(`${APP_PATHS.appDirectory}/server.js`)?.toString()).toBe(fs.readFileSync(path.join(dirs.app, 'server.js'), 'utf8'));
      // Nothing in the values ran as a command.
      expect(Object.keys(HOSTILE_ENV).length).toBeGreaterThan(30);
      expect(r.instances.app!.stat('/tmp/pwned')).toBeUndefined();
    } finally {
      await r.instances.web?.stop();
      await r.instances.app?.stop();
      r.network.stop();
    }
  }, 240_000);
});

describe('a broken boot step fails the rehearsal', () => {
  /** Rewrites one file the user data writes (decoded, changed, encoded again). */
  function rewriteBootFile(script: string, file: string, change: (content: string) => string): string {
    let found = false;
    const out = script.replace(/^printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d > '([^']+)'$/gm, (line, b64: string, p: string) => {
      if (p !== file) return line;
      found = true;
      return `printf '%s' ${Buffer.from(change(Buffer.from(b64, 'base64').toString('utf8')), 'utf8').toString('base64')} | base64 -d > '${p}'`;
    });
    if (!found) throw new Error(`the user data writes no ${file}`);
    return out;
  }

  function replaceOnce(text: string, from: string, to: string): string {
    const i = text.indexOf(from);
    if (i < 0 || text.indexOf(from, i + 1) >= 0) throw new Error(`expected exactly one '${from}' in the user data`);
    return text.slice(0, i) + to + text.slice(i + from.length);
  }

  test('a wrong path: the NGINX configuration written under conf.d', async () => {
    const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
    const wrong = '/etc/nginx/conf.d/nginx.conf';
    const r = await rehearse(d, {
      only: 'web',
      breakUserData: (tier, s) => (tier === 'web' ? s.split(`'${WEB_PATHS.nginxConfig}'`).join(`'${wrong}'`) : s),
    });
    expect(r.web!.userData).toContain(`> '${wrong}'`);
    expect(r.web!.exitCode).not.toBe(0);
    const problems = rehearsalProblems(r);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^web: the user data exits 0: exit [1-9]/),
      expect.stringMatching(/^web: every file .*: \/etc\/nginx\/nginx\.conf: differs from what the user data writes/),
      expect.stringMatching(/^web: nothing written outside .*: \/etc\/nginx\/conf\.d\/nginx\.conf created: not a path the boot is meant to write/),
      expect.stringMatching(/^web: one SUCCESS signal .*: signal status FAILURE, expected SUCCESS/),
    ]));
  }, 240_000);

  test('a missing quote: an unterminated word in the app tier\'s script', async () => {
    const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
    const line = `chown 'root:app' '${APP_PATHS.environmentFile}'`;
    const r = await rehearse(d, {
      only: 'app',
      breakUserData: (tier, s) => (tier === 'app' ? replaceOnce(s, `${line}\n`, `${line.slice(0, -1)}\n`) : s),
    });
    expect(r.app!.exitCode).toBe(2);
    expect(r.app!.output).toMatch(/unexpected EOF while looking for matching `''/);
    const problems = rehearsalProblems(r);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app: the user data exits 0: exit 2/),
      expect.stringMatching(new RegExp(`^app: every file .*: ${APP_PATHS.unit.replace(/\./g, '\\.')}: not on the instance`)),
      expect.stringMatching(/^app: the app runs from the unit's ExecStart=.*: app\.service was never started/),
      expect.stringMatching(/^app: one SUCCESS signal .*: signal status FAILURE, expected SUCCESS/),
    ]));
  }, 240_000);

  test('an env file systemd reads otherwise than meant: an unquoted value with a comment', async () => {
    const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
    const r = await rehearse(d, {
      only: 'app',
      breakUserData: (tier, s) => (tier === 'app'
        ? rewriteBootFile(s, APP_PATHS.environmentFile, (env) => replaceOnce(env, 'NODE_ENV="production"', 'NODE_ENV=production # the preset'))
        : s),
    });
    // The boot itself succeeds: only the parse of the env file shows the defect.
    expect(r.app!.exitCode).toBe(0);
    expect(rehearsalProblems(r)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app: every file .*: \/etc\/cdk-three-tier\/app\.env: differs from what the user data writes/),
      'app: the env file parses with systemd\'s parser to exactly the intended values: NODE_ENV is "production # the preset", intended "production"',
    ]));
    // The process got what systemd parsed (the check that compares it with the unit is not fooled).
    expect(rehearsalProblems(r).filter((p) => p.includes('ExecStart='))).toEqual([]);
  }, 240_000);

  test('an agent configuration the agent refuses: a relative log file path', async () => {
    const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
    const r = await rehearse(d, {
      only: 'app',
      breakUserData: (tier, s) => (tier === 'app'
        ? rewriteBootFile(s, AGENT_PATHS.config, (config) => replaceOnce(config, `"file_path":"${APP_PATHS.logFile}"`, `"file_path":"${APP_PATHS.logFile.slice(1)}"`))
        : s),
    });
    expect(r.app!.exitCode).toBe(1);
    const problems = rehearsalProblems(r);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app: the user data exits 0: exit 1/),
      expect.stringMatching(/^app: every file .*amazon-cloudwatch-agent\.json: differs from what the user data writes/),
      expect.stringMatching(/^app: the agent configuration .*: amazon-cloudwatch-agent-ctl -a fetch-config .*: exit 1: collect_list\[1\]\.file_path var\/log\/app\/app\.log is not an absolute path/),
      expect.stringMatching(/^app: one SUCCESS signal .*: signal status FAILURE, expected SUCCESS/),
    ]));
  }, 240_000);

  test('a service that does not start: the unit runs a start script that is not there', async () => {
    const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
    const r = await rehearse(d, {
      only: 'app',
      breakUserData: (tier, s) => (tier === 'app'
        ? rewriteBootFile(s, APP_PATHS.unit, (unit) => replaceOnce(unit, `ExecStart=/bin/sh ${APP_PATHS.startScript}`, `ExecStart=/bin/sh ${APP_PATHS.configDirectory}/start`))
        : s),
    });
    // systemd starts /bin/sh, which exits at once: `systemctl enable --now` succeeds (Type=simple),
    // the health check that follows fails after its retries.
    expect(r.app!.output).toMatch(/curl: \(7\) Failed to connect to 127\.0\.0\.1 port 8080/);
    expect(r.app!.exitCode).toBe(7);
    const problems = rehearsalProblems(r);
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app: the user data exits 0: exit 7/),
      expect.stringMatching(/^app: every file .*: \/etc\/systemd\/system\/app\.service: differs from what the user data writes/),
      expect.stringMatching(/^app: the app runs from the unit's ExecStart=.*: its main process \([0-9]+\) is not running/),
      expect.stringMatching(/^app: the app answers its health check .*: HTTP 0/),
      expect.stringMatching(/^app: one SUCCESS signal .*: signal status FAILURE, expected SUCCESS/),
    ]));
  }, 240_000);
});

test('the token values come from the deployment: no placeholder is left in the user data that ran', async () => {
  const d = await deploy('dev', EXAMPLES.dev.stackName, EXAMPLES.dev.props());
  const layout = platformLayout(d.template);
  for (const f of [layout.web, layout.app]) {
    const script = resolvedUserData(d.template, f.launchTemplateId, d.values);
    expect(script).not.toMatch(/\$\{Token|\[object Object\]|undefined/);
    expect(script).toContain(`--stack ${d.stack.stackName} --resource ${f.autoScalingGroupId} --region ${REGION}`);
  }
  expect(() => resolvedUserData(d.template, layout.web.launchTemplateId, { refs: d.values.refs, getAtts: {} }))
    .toThrow(/no value for Fn::GetAtt .*DNSName/);
}, 120_000);
