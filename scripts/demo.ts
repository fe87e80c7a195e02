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
import * as os from 'os';
import * as path from 'path';
import * as readline from 'readline';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DEMO_STACK_NAME, STORE_PARTS, storeAppAvailable } from './demo-app';
import { fileAssets, publishAssets, readStack, ROOT, stackEnvironment, synth, templateDestination } from './lib/assembly';
import { clientsFor, Clients, Target } from './lib/aws';
import { adaptTemplateForEmulator, ensureSsmParameters, skippedByEmulator } from './lib/emulator';
import { inspectStack } from './lib/inspect';
import { Progress } from './lib/progress';
import { rehearsalPrerequisites } from './lib/rehearsal/instance';
import { rehearsalProblems, rehearsePlatform } from './lib/rehearsal/rehearse';
import { createStack, deleteStack, stackResources, TemplateStore } from './lib/stack';
import { renderSummary } from './lib/summary';
import { formatDuration, MotoServer, requireTools, startMoto, UserError } from './lib/tools';

interface Args {
  readonly real: boolean;
  readonly yes: boolean;
  readonly keep: boolean;
  readonly ci: boolean;
}

const USAGE = `usage: npx projen demo [-- [--real [--yes]] [--keep] [--ci]]
  (no option)  deploy to a local moto_server started on a free 127.0.0.1 port (or to AWS_ENDPOINT_URL)
  --real       deploy to the AWS account of your credentials (asks first; billable resources)
  --yes        with --real: do not ask (needed without a terminal)
  --keep       do not tear down at the end (the local emulator keeps running in the background)
  --ci         plain progress lines, never a question`;

function parseArgs(argv: string[]): Args {
  const flags = new Set<string>();
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (!['--real', '--yes', '--keep', '--ci'].includes(a)) throw new UserError(`unknown argument ${a}\n${USAGE}`);
    flags.add(a);
  }
  return { real: flags.has('--real'), yes: flags.has('--yes'), keep: flags.has('--keep'), ci: flags.has('--ci') };
}

function ask(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return new Promise((resolve) => rl.question(question, (answer) => {
    rl.close();
    resolve(answer.trim());
  }));
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
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const interactive = Boolean(process.stdin.isTTY) && !args.ci;
  Progress.plain = args.ci;
  const endpoint = args.real ? undefined : process.env.AWS_ENDPOINT_URL;
  const local = !args.real && !endpoint;
  if (local) requireTools(['moto_server', 'cfn-lint']);

  if (args.real && !args.yes) {
    if (!interactive) throw new UserError('--real deploys billable resources to your AWS account: without a terminal to confirm on, add --yes');
    const answer = await ask(`Deploy ${DEMO_STACK_NAME} (dev preset: VPC, NAT instance, 2 ALBs, 2 instances, RDS MySQL) to the AWS account of your credentials? Type "yes": `);
    if (answer !== 'yes') {
      console.log('Nothing deployed.');
      return 1;
    }
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-'));
  let moto: MotoServer | undefined;
  let clients: Clients | undefined;
  let stackCreated = false;
  let tornDown = false;
  const teardown = async (reason: string) => {
    if (tornDown) return;
    tornDown = true;
    if (args.keep) {
      if (moto) {
        moto.detach();
        console.log(`\nKept: moto_server keeps running at ${moto.endpoint} (pid ${moto.pid}); look around with`);
        console.log(`  AWS_ENDPOINT_URL=${moto.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 aws cloudformation describe-stacks`);
        console.log(`and stop it with: kill ${moto.pid}`);
      } else if (stackCreated) {
        console.log(`\nKept: stack ${DEMO_STACK_NAME}. Delete it with: aws cloudformation delete-stack --stack-name ${DEMO_STACK_NAME}`);
      }
    } else {
      console.log(`\nTearing down (${reason})...`);
      if (clients && stackCreated) {
        try {
          await deleteStack({ cfn: clients.cfn, stackName: DEMO_STACK_NAME, pollSeconds: args.real ? 10 : 1 });
          if (args.real) console.log('  Retained by their removal policy (delete them yourself when done): the access log and application buckets, the KMS keys and log groups.');
        } catch (e) {
          console.log(`  deleting ${DEMO_STACK_NAME} failed: ${(e as Error).message}`);
        }
      }
      if (moto) {
        await moto.stop();
        console.log('  moto_server stopped');
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      Progress.interruptAll();
      void teardown(signal).finally(() => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[signal]));
    });
  }

  try {
    // 1. The app, and the emulator starting meanwhile.
    const motoStarting = local ? startMoto() : undefined;
    motoStarting?.catch(() => undefined);
    console.log('Preparing the store app...');
    const store = bundleStoreApp();
    const appDescription = store
      ? `reference store app (${path.relative(ROOT, STORE_PARTS.app)}, site ${path.relative(ROOT, STORE_PARTS.web)}, images ${path.relative(ROOT, STORE_PARTS.images)})`
      : 'placeholder API (examples/common.ts): the store app is not there';
    console.log(`  ${appDescription}`);

    // 2. Synthesize.
    console.log('Synthesizing scripts/demo-app.ts...');
    const t0 = Date.now();
    const outdir = path.join(tmp, 'cdk.out');
    await synth({ app: 'scripts/demo-app.ts', outdir, offline: !args.real });
    const stack = readStack(outdir, DEMO_STACK_NAME);
    const env = stackEnvironment(outdir, DEMO_STACK_NAME) ?? { account: '123456789012', region: 'us-east-1' };
    if (args.real && env.account === '123456789012') {
      throw new UserError('no AWS credentials found (the CDK used its placeholder account): configure credentials, e.g. AWS_PROFILE, and try again');
    }
    console.log(`  ${Object.keys(stack.template.Resources).length} resources in ${formatDuration(Date.now() - t0)}`);

    // 3. Deploy.
    moto = motoStarting ? await motoStarting : undefined;
    const target: Target = { endpoint: moto?.endpoint ?? endpoint, region: env.region, emulator: !args.real };
    clients = clientsFor(target);
    console.log(`Deploying ${DEMO_STACK_NAME} to ${args.real ? `AWS account ${env.account}, ${env.region}` : `${target.endpoint}${moto ? ' (moto_server started for the demo)' : ''}`}...`);
    let template = stack.template;
    const emulatorNotes: string[] = [];
    if (target.emulator) {
      const adapted = adaptTemplateForEmulator(stack.template, env);
      template = adapted.template;
      const byType = new Map<string, number>();
      adapted.removed.forEach((r) => byType.set(r.type, (byType.get(r.type) ?? 0) + 1));
      emulatorNotes.push(`left out (cannot run in the emulator): ${[...byType].map(([t, n]) => `${n} ${t}`).join(', ')}`);
      for (const p of await ensureSsmParameters(clients.ssm, clients.ec2, template)) console.log(`  put into the emulator's SSM: ${p}`);
    }
    const assets = fileAssets(stack, env.account, env.region, template);
    const uploaded = await publishAssets(clients.s3, assets, target.emulator);
    console.log(`  ${assets.length} asset(s), ${uploaded} uploaded`);
    const dest = templateDestination(stack, env.account, env.region);
    const templateStore: TemplateStore = target.emulator
      ? { s3: clients.s3, bucket: 'cdk-three-tier-demo-templates', createBucket: true, url: (key) => `https://s3.amazonaws.com/cdk-three-tier-demo-templates/${key}` }
      : { s3: clients.s3, bucket: dest?.bucketName ?? '', createBucket: false, url: (key) => `https://s3.${env.region}.amazonaws.com/${dest?.bucketName}/${key}` };
    const existing = await clients.cfn.send(new DescribeStacksCommand({ StackName: DEMO_STACK_NAME }))
      .then((r) => r.Stacks?.[0]?.StackStatus, () => undefined);
    if (existing && existing !== 'DELETE_COMPLETE') {
      throw new UserError(`stack ${DEMO_STACK_NAME} already exists there (${existing}), e.g. from a --keep run: delete it first`);
    }
    stackCreated = true;
    const created = await createStack({
      cfn: clients.cfn,
      stackName: DEMO_STACK_NAME,
      template,
      store: templateStore,
      pollSeconds: args.real ? 10 : 1,
      timeoutSeconds: args.real ? 3600 : 600,
    });

    // 4. Summary.
    const deployed = await inspectStack(clients, DEMO_STACK_NAME, stack.template);
    if (target.emulator) {
      const skipped = skippedByEmulator(template, new Set(deployed.resources.keys()));
      const byType = new Map<string, number>();
      skipped.forEach((r) => byType.set(r.type, (byType.get(r.type) ?? 0) + 1));
      emulatorNotes.push(`accepted but not modelled: ${[...byType].map(([t, n]) => `${n} ${t}`).join(', ')}`);
      emulatorNotes.push(await rehearseDemoBoot(clients, target.endpoint!, env, created.stackId, stack.template, store));
    }
    const summary = await renderSummary(clients, stack.template, created.outputs, deployed, {
      emulator: target.emulator, appDescription, emulatorNotes,
    });
    console.log(`\n=== ${DEMO_STACK_NAME}, as deployed ===\n`);
    console.log(summary);
  } catch (e) {
    await teardown('failure');
    throw e;
  }
  await teardown('done');
  console.log(`\nDemo finished in ${formatDuration(Date.now() - started)}`);
  return 0;
}

/**
 * The instances' boot, rehearsed on this machine (scripts/lib/rehearsal): both fleets' user data,
 * with this deployment's values, run as root in throw-away namespaces; one line for the summary.
 */
async function rehearseDemoBoot(
  c: Clients, endpoint: string, env: { account: string; region: string }, stackId: string, template: any, store: boolean,
): Promise<string> {
  const missing = rehearsalPrerequisites();
  if (missing.length > 0) return `instances do not boot in the emulator, and this machine cannot rehearse their boot: ${missing.join('; ')}`;
  console.log('Rehearsing the instances\' boot on this machine (scripts/lib/rehearsal)...');
  const t0 = Date.now();
  const bucketId = Object.keys(template.Resources).find((id) => id.startsWith('PlatformApplicationBucket') && template.Resources[id].Type === 'AWS::S3::Bucket');
  const resources = await stackResources(c.cfn, DEMO_STACK_NAME);
  const seedFiles = new Map<string, number>();
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}${e.name}/`);
      else seedFiles.set(`${rel}${e.name}`, fs.statSync(path.join(dir, e.name)).size);
    }
  };
  if (store) walk(STORE_PARTS.images, '');
  const r = await rehearsePlatform({
    name: 'demo',
    clients: c,
    endpoint,
    account: env.account,
    region: env.region,
    stackName: DEMO_STACK_NAME,
    stackId,
    template,
    apiProbePath: store ? undefined : '/api/hello',
    seed: store && bucketId ? { bucket: resources.get(bucketId)!.physicalId, prefix: 'products/', files: seedFiles } : undefined,
  });
  const problems = rehearsalProblems(r);
  const took = formatDuration(Date.now() - t0);
  if (problems.length === 0) {
    const count = [r.app, r.web].reduce((n, f) => n + (f?.checks.length ?? 0), r.platform.length);
    return `instances do not boot in the emulator; their boot was rehearsed on this machine in ${took}: both fleets' user data ran`
      + ` and all ${count} checks passed (scripts/lib/rehearsal/README.md says what each checks)`;
  }
  return `instances do not boot in the emulator; their boot, rehearsed on this machine in ${took}, FAILED:\n    ${problems.join('\n    ')}`;
}

main().then((code) => process.exit(code), (e) => {
  if (e instanceof UserError) console.error(`demo: ${e.message}`);
  else console.error(`demo: ${(e as Error).message ?? e}`);
  process.exit(1);
});
