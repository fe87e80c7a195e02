/**
 * The demo: deploys the dev preset with the reference store app through CloudFormation, prints a
 * summary, and tears everything down.
 *
 *   npx projen demo                   local emulator: starts moto_server on a free 127.0.0.1 port
 *   AWS_ENDPOINT_URL=... npx projen demo   an emulator you run yourself
 *   npx projen demo -- --real         your AWS account (asks for confirmation; --yes skips it)
 *   npx projen demo -- --keep         leave the stack (and the local emulator) running
 *   npx projen demo -- --ci           plain output, never a question
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline/promises';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DEMO_STACK_NAME, STORE_PARTS, storeAppAvailable } from './demo-app';
import { parseTaskArgs } from './lib/args';
import { readStack, ROOT, stackEnvironment, synth } from './lib/assembly';
import { skippedByEmulator } from './lib/emulator';
import { inspectStack } from './lib/inspect';
import { Progress } from './lib/progress';
import { rehearsalProblems } from './lib/rehearsal/rehearse';
import { countBy, DeploySession, runScript } from './lib/session';
import { createStack, deleteStack, stackResources } from './lib/stack';
import { renderSummary } from './lib/summary';
import { formatDuration, UserError } from './lib/tools';

const USAGE = `usage: npx projen demo [-- [--real [--yes]] [--keep] [--ci]]
  (no option)  deploy to a local moto_server started on a free 127.0.0.1 port (or to AWS_ENDPOINT_URL)
  --real       deploy to the AWS account of your credentials (asks first; billable resources)
  --yes        with --real: do not ask (needed without a terminal)
  --keep       do not tear down at the end (the local emulator keeps running in the background)
  --ci         plain progress lines, never a question`;

const OPTIONS = {
  real: { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  ci: { type: 'boolean', default: false },
} as const;

async function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Builds the store app bundle when its sources are there; false when it cannot be built. */
function bundleStoreApp(): boolean {
  const bundler = path.join(ROOT, 'integ', 'store-app', 'bundle.mjs');
  if (!fs.existsSync(bundler)) return storeAppAvailable();
  const r = spawnSync(process.execPath, [bundler], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`  the store app did not bundle (${(r.stderr || r.stdout).trim().split('\n')[0]}); using the placeholder API`);
    return false;
  }
  return storeAppAvailable();
}

async function main(): Promise<number> {
  const args = parseTaskArgs(process.argv.slice(2), OPTIONS, USAGE);
  const started = Date.now();
  const interactive = Boolean(process.stdin.isTTY) && !args.ci;
  Progress.plain = args.ci;

  if (args.real && !args.yes) {
    if (!interactive) throw new UserError('--real deploys billable resources to your AWS account: without a terminal to confirm on, add --yes');
    const answer = await ask(`Deploy ${DEMO_STACK_NAME} (dev preset: VPC, NAT instance, 2 ALBs, 2 instances, RDS MySQL) to the AWS account of your credentials? Type "yes": `);
    if (answer !== 'yes') {
      console.log('Nothing deployed.');
      return 1;
    }
  }

  // 1. The app, and the emulator starting meanwhile.
  const session = new DeploySession({ name: 'demo', real: args.real, keep: args.keep });
  let stackCreated = false;
  session.onTeardown(async (reason) => {
    if (args.keep) return printKept(session, stackCreated);
    console.log(`\nTearing down (${reason})...`);
    if (!stackCreated) return;
    try {
      await deleteStack({ cfn: session.clients.cfn, stackName: DEMO_STACK_NAME, pollSeconds: args.real ? 10 : 1 });
      if (args.real) console.log('  Retained by their removal policy (delete them yourself when done): the access log and application buckets, the KMS keys and log groups.');
    } catch (e) {
      console.log(`  deleting ${DEMO_STACK_NAME} failed: ${(e as Error).message}`);
    }
  });
  try {
    console.log('Preparing the store app...');
    const store = bundleStoreApp();
    const appDescription = store
      ? `reference store app (${path.relative(ROOT, STORE_PARTS.app)}, site ${path.relative(ROOT, STORE_PARTS.web)}, images ${path.relative(ROOT, STORE_PARTS.images)})`
      : 'placeholder API (examples/common.ts): the store app is not there';
    console.log(`  ${appDescription}`);

    // 2. Synthesize.
    console.log('Synthesizing scripts/demo-app.ts...');
    const t0 = Date.now();
    const outdir = path.join(session.tmp, 'cdk.out');
    await synth({ app: 'scripts/demo-app.ts', outdir, offline: !args.real });
    const stack = readStack(outdir, DEMO_STACK_NAME);
    const env = stackEnvironment(outdir, DEMO_STACK_NAME) ?? { account: '123456789012', region: 'us-east-1' };
    if (args.real && env.account === '123456789012') {
      throw new UserError('no AWS credentials found (the CDK used its placeholder account): configure credentials, e.g. AWS_PROFILE, and try again');
    }
    console.log(`  ${Object.keys(stack.template.Resources).length} resources in ${formatDuration(Date.now() - t0)}`);

    // 3. Deploy.
    const { target, clients } = await session.connect(env.region);
    console.log(`Deploying ${DEMO_STACK_NAME} to ${args.real ? `AWS account ${env.account}, ${env.region}` : `${target.endpoint}${session.moto ? ' (moto_server started for the demo)' : ''}`}...`);
    const prepared = await session.prepare(stack, env);
    const emulatorNotes = target.emulator ? [`left out (cannot run in the emulator): ${countBy(prepared.removed.map((r) => r.type))}`] : [];
    for (const p of prepared.ssmParameters) console.log(`  put into the emulator's SSM: ${p}`);
    console.log(`  ${prepared.assets} asset(s), ${prepared.uploaded} uploaded`);
    const existing = await clients.cfn.send(new DescribeStacksCommand({ StackName: DEMO_STACK_NAME }))
      .then((r) => r.Stacks?.[0]?.StackStatus, () => undefined);
    if (existing && existing !== 'DELETE_COMPLETE') {
      throw new UserError(`stack ${DEMO_STACK_NAME} already exists there (${existing}), e.g. from a --keep run: delete it first`);
    }
    stackCreated = true;
    const created = await createStack({
      cfn: clients.cfn,
      stackName: DEMO_STACK_NAME,
      template: prepared.template,
      store: session.templateStore(stack, env, 'cdk-three-tier-demo-templates'),
      pollSeconds: args.real ? 10 : 1,
      timeoutSeconds: args.real ? 3600 : 600,
    });

    // 4. Summary.
    const deployed = await inspectStack(clients, DEMO_STACK_NAME, stack.template);
    if (target.emulator) {
      const skipped = skippedByEmulator(prepared.template, new Set(deployed.resources.keys()));
      emulatorNotes.push(`accepted but not modelled: ${countBy(skipped.map((r) => r.type))}`);
      emulatorNotes.push(await rehearseDemoBoot(session, env, created.stackId, stack.template, store));
    }
    const summary = await renderSummary(clients, stack.template, created.outputs, deployed, {
      emulator: target.emulator, appDescription, emulatorNotes,
    });
    console.log(`\n=== ${DEMO_STACK_NAME}, as deployed ===\n`);
    console.log(summary);
  } catch (e) {
    await session.teardown('failure');
    throw e;
  }
  await session.teardown('done');
  console.log(`\nDemo finished in ${formatDuration(Date.now() - started)}`);
  return 0;
}

/** `--keep`: the stack, and the emulator started for it, stay; says how to reach them. */
async function printKept(session: DeploySession, stackCreated: boolean): Promise<void> {
  const moto = session.moto;
  if (moto) {
    console.log(`\nKept: moto_server keeps running at ${moto.endpoint} (pid ${moto.pid}); look around with`);
    console.log(`  AWS_ENDPOINT_URL=${moto.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 aws cloudformation describe-stacks`);
    console.log(`and stop it with: kill ${moto.pid}`);
  } else if (stackCreated) {
    console.log(`\nKept: stack ${DEMO_STACK_NAME}. Delete it with: aws cloudformation delete-stack --stack-name ${DEMO_STACK_NAME}`);
  }
}

/**
 * The instances' boot, rehearsed on this machine (scripts/lib/rehearsal): both fleets' user data,
 * with this deployment's values, run as root in throw-away namespaces; one line for the summary.
 */
async function rehearseDemoBoot(
  session: DeploySession, env: { account: string; region: string }, stackId: string, template: any, store: boolean,
): Promise<string> {
  console.log('Rehearsing the instances\' boot on this machine (scripts/lib/rehearsal)...');
  const t0 = Date.now();
  const bucketId = Object.keys(template.Resources).find((id) => id.startsWith('PlatformApplicationBucket') && template.Resources[id].Type === 'AWS::S3::Bucket');
  const resources = await stackResources(session.clients.cfn, DEMO_STACK_NAME);
  const seedFiles = new Map<string, number>();
  if (store) {
    for (const f of fs.readdirSync(STORE_PARTS.images, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      const full = path.join(f.parentPath ?? (f as any).path, f.name);
      seedFiles.set(path.relative(STORE_PARTS.images, full).split(path.sep).join('/'), fs.statSync(full).size);
    }
  }
  const { missing, rehearsal: r } = await session.rehearse({
    name: 'demo',
    account: env.account,
    region: env.region,
    stackName: DEMO_STACK_NAME,
    stackId,
    template,
    apiProbePath: store ? undefined : '/api/hello',
    seed: store && bucketId ? { bucket: resources.get(bucketId)!.physicalId, prefix: 'products/', files: seedFiles } : undefined,
  });
  if (!r) return `instances do not boot in the emulator, and this machine cannot rehearse their boot: ${missing.join('; ')}`;
  const problems = rehearsalProblems(r);
  const took = formatDuration(Date.now() - t0);
  if (problems.length === 0) {
    const count = [r.app, r.web].reduce((n, f) => n + (f?.checks.length ?? 0), r.platform.length);
    return `instances do not boot in the emulator; their boot was rehearsed on this machine in ${took}: both fleets' user data ran`
      + ` and all ${count} checks passed (scripts/lib/rehearsal/README.md says what each checks)`;
  }
  return `instances do not boot in the emulator; their boot, rehearsed on this machine in ${took}, FAILED:\n    ${problems.join('\n    ')}`;
}

runScript('demo', main);
