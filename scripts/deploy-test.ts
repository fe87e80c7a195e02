/**
 * Deployment tests: create, update and delete every example (dev, staging, prod) against a local
 * AWS emulator (moto) through CloudFormation, and compare what the emulator really has with what
 * the library intends.
 *
 *   npx projen deploy:test [-- --only dev,prod] [--keep-output]
 *
 * With prod, also deploys prod with a domain (HTTPS) and CloudFront in front (`prod+edge`,
 * scripts/lib/edge-variant.ts): created, checked (listeners, the origin-header rule and 403 default,
 * the public load balancer's ingress) and deleted, after the examples.
 *
 * Starts `moto_server` on a free port of 127.0.0.1 (or uses `AWS_ENDPOINT_URL` when set), and stops
 * it at the end, on failure and on Ctrl-C too. Prints `N passed, N failed, N skipped` last; exits
 * non-zero on any failure. Checks on things moto does not model are reported as skipped.
 */
import * as path from 'path';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { parseTaskArgs } from './lib/args';
import { readStack, SynthesizedStack } from './lib/assembly';
import { Checks, CheckResult } from './lib/checks';
import { EDGE_LABEL, synthEdgeVariant, testEdgeVariant } from './lib/edge-variant';
import { adaptTemplateForEmulator, skippedByEmulator } from './lib/emulator';
import { EDGE_VARIANT, EXAMPLES, ExampleName, presetOf, UPDATE_VARIANTS } from './lib/examples';
import { DeployedStack, inspectStack, routeLeavesVpc } from './lib/inspect';
import { rehearsalProblems } from './lib/rehearsal/rehearse';
import { countBy, DeploySession, runScript } from './lib/session';
import { compareEdges, edgeText, groupLabels, intendedEdges } from './lib/sg-graph';
import { createStack, deleteStack, updateStack } from './lib/stack';
import { limitConcurrency, synthExample, synthUpdateVariant } from './lib/synth-examples';
import { formatDuration, UserError } from './lib/tools';
import { subnetCidr } from '../src/network/address-plan';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ENV = { account: ACCOUNT, region: REGION };
const TIERS = ['Public', 'Web', 'App', 'Data'];
const STATEFUL_TYPES = ['AWS::RDS::DBInstance', 'AWS::RDS::DBSubnetGroup', 'AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret'];
/** Resource types an update of instance types, capacities and a fleet tag may touch. */
const UPDATE_MAY_CHANGE = ['AWS::EC2::LaunchTemplate', 'AWS::AutoScaling::AutoScalingGroup'];
/**
 * Resource types an update of capacities may touch in these properties only: the off-hours
 * schedule's scale-up action restores the fleet's minimum (and desired) capacity.
 */
const UPDATE_MAY_CHANGE_CAPACITIES = { 'AWS::AutoScaling::ScheduledAction': ['MinSize', 'MaxSize', 'DesiredCapacity'] } as Record<string, string[]>;

interface Timings { create?: number; update?: number; delete?: number }

const USAGE = `usage: npx projen deploy:test [-- [--only dev,staging,prod] [--keep-output]]
  --only LIST    comma-separated examples to deploy (default: ${EXAMPLES.join(',')})
  --keep-output  keep the synthesized cloud assemblies (their folder is printed at the end)`;

const OPTIONS = {
  'only': { type: 'string', default: EXAMPLES.join(',') },
  'keep-output': { type: 'boolean', default: false },
} as const;

function parseCommandLine(argv: string[]): { only: ExampleName[]; keepOutput: boolean } {
  const values = parseTaskArgs(argv, OPTIONS, USAGE);
  const only = values.only.split(',').filter(Boolean) as ExampleName[];
  if (only.length === 0 || only.some((e) => !EXAMPLES.includes(e))) {
    throw new UserError(`--only takes a comma-separated list of ${EXAMPLES.join(', ')} (got ${JSON.stringify(values.only)})\n${USAGE}`);
  }
  return { only, keepOutput: values['keep-output'] };
}

async function main(): Promise<number> {
  const { only, keepOutput } = parseCommandLine(process.argv.slice(2));
  const started = Date.now();
  // The emulator starts while the examples synthesize.
  const session = new DeploySession({ name: 'deploy-test', keepTmp: keepOutput });
  try {
    console.log(`Synthesizing ${only.join(', ')} and their update variants...`);
    const t0 = Date.now();
    const synthJobs = only.flatMap((e) => [
      () => synthExample(e, path.join(session.tmp, `${e}`)).then((r) => ({ e, kind: 'base', dir: r.dir, reused: r.reused })),
      () => synthUpdateVariant(e, path.join(session.tmp, `${e}-update`)).then((dir) => ({ e, kind: 'update', dir, reused: false })),
    ]);
    const synthesized = await limitConcurrency(2, synthJobs);
    const reused = synthesized.filter((s) => s.reused).map((s) => s.e);
    console.log(`  synthesized in ${formatDuration(Date.now() - t0)}${reused.length ? ` (reused cdk.out/examples/ for ${reused.join(', ')})` : ''}`);

    const { target } = await session.connect(REGION);
    console.log(`Emulator: ${target.endpoint}${session.moto ? ' (moto_server started for this run)' : ' (AWS_ENDPOINT_URL)'}`);

    // With prod: prod with a domain and CloudFront too (its hosted zone is created in the emulator
    // first, so it synthesizes now, while the examples deploy).
    const edgeStack = only.includes(EDGE_VARIANT.example) && target.endpoint
      ? synthEdgeVariant(session, path.join(session.tmp, EDGE_LABEL)).then((s) => ({ s }), (e: Error) => ({ e }))
      : undefined;

    const results: CheckResult[] = [];
    const timings = new Map<string, Timings>();
    for (const example of only) {
      const base = readStack(synthesized.find((s) => s.e === example && s.kind === 'base')!.dir);
      const update = readStack(synthesized.find((s) => s.e === example && s.kind === 'update')!.dir);
      const t: Timings = {};
      timings.set(example, t);
      const checks = new Checks(example);
      console.log(`\n== ${example} (${base.stackName}) ==`);
      try {
        await testExample(example, base, update, session, checks, t);
      } catch (e) {
        checks.fail('unexpected error', (e as Error).stack ?? String(e));
        await deleteStack({ cfn: session.clients.cfn, stackName: base.stackName }).catch(() => undefined);
      }
      results.push(...checks.results);
    }
    if (edgeStack) {
      const checks = new Checks(EDGE_LABEL);
      const t: Timings = {};
      timings.set(EDGE_LABEL, t);
      const edgeStarted = Date.now();
      const synthesizedEdge = await edgeStack;
      const waited = Date.now() - edgeStarted;
      console.log(`\n== ${EDGE_LABEL}: ${EDGE_VARIANT.example} with the domain ${EDGE_VARIANT.domainName} (HTTPS) and CloudFront in front ==`);
      if ('e' in synthesizedEdge) {checks.fail('synthesis', synthesizedEdge.e.message);} else {
        try {
          Object.assign(t, await testEdgeVariant(session, target.endpoint!, synthesizedEdge.s, checks, ENV));
        } catch (e) {
          checks.fail('unexpected error', (e as Error).stack ?? String(e));
          await deleteStack({ cfn: session.clients.cfn, stackName: `${synthesizedEdge.s.stackName}Edge` }).catch(() => undefined);
        }
      }
      results.push(...checks.results);
      console.log(`  ${EDGE_LABEL} took ${formatDuration(Date.now() - edgeStarted)} after the examples (of which ${formatDuration(waited)} waiting for its synthesis)`);
    }

    console.log('\nTimes against the emulator:');
    console.log(`  ${'example'.padEnd(10)}${'create'.padStart(10)}${'update'.padStart(10)}${'delete'.padStart(10)}`);
    for (const [example, t] of timings) {
      const f = (ms?: number) => (ms === undefined ? '-' : formatDuration(ms)).padStart(10);
      console.log(`  ${example.padEnd(10)}${f(t.create)}${f(t.update)}${f(t.delete)}`);
    }
    const failed = results.filter((r) => r.status === 'fail');
    if (failed.length) {
      console.log('\nFailed:');
      for (const r of failed) console.log(`  ${r.example}: ${r.name}: ${r.detail?.split('\n')[0]}`);
    }
    const skipped = results.filter((r) => r.status === 'skip');
    console.log(`\nTotal ${formatDuration(Date.now() - started)}`);
    console.log(`${results.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} skipped`);
    return failed.length ? 1 : 0;
  } finally {
    await session.teardown('done');
  }
}

async function testExample(
  example: ExampleName, base: SynthesizedStack, update: SynthesizedStack, session: DeploySession, checks: Checks, t: Timings,
): Promise<void> {
  const c = session.clients;
  const preset = presetOf(example).values;
  const variant = UPDATE_VARIANTS[example];
  const stackName = base.stackName;
  const store = session.templateStore(base, ENV, 'deploy-test-templates');

  // The update variant must differ from the example only in what it means to change.
  const unexpected: string[] = [];
  fullDiff(base.template, update.template).resources.forEachDifference((id, change) => {
    const type = change.newResourceType ?? change.oldResourceType ?? '?';
    if (UPDATE_MAY_CHANGE.includes(type)) return;
    const capacities = UPDATE_MAY_CHANGE_CAPACITIES[type];
    const changed = [...Object.keys(change.propertyUpdates), ...Object.keys(change.otherChanges)];
    const onlyCapacities = capacities && !change.isAddition && !change.isRemoval && changed.length > 0
      && Object.keys(change.otherChanges).length === 0 && changed.every((p) => capacities.includes(p));
    if (!onlyCapacities) unexpected.push(`${id} (${type}${capacities ? `: ${changed.join(', ') || 'added or removed'}` : ''})`);
  });
  checks.expect('update variant changes only launch templates, Auto Scaling Groups and the capacities of scheduled actions', unexpected.map((u) =>
    `${u} differs: scripts/lib/example-app.ts no longer builds what examples/${example}.ts does`));

  const created = await session.prepare(base, ENV, [update]);
  const updated = adaptTemplateForEmulator(update.template, ENV);
  console.log(`  template: ${Object.keys(base.template.Resources).length} resources; removed for the emulator: ${created.removed.length} (${countBy(created.removed.map((r) => r.type))})`);
  for (const p of created.ssmParameters) console.log(`  put into the emulator's SSM: ${p}`);

  // --- create ---
  let result;
  try {
    result = await createStack({ cfn: c.cfn, stackName, template: created.template, store, timeoutSeconds: 300 });
  } catch (e) {
    checks.fail('create: CREATE_COMPLETE', (e as Error).message);
    await deleteStack({ cfn: c.cfn, stackName }).catch(() => undefined);
    return;
  }
  t.create = result.ms;
  const stackId: string = result.stackId;
  checks.pass('create: CREATE_COMPLETE', formatDuration(result.ms));
  let deployed = await inspectStack(c, stackName, base.template);
  const skipped = skippedByEmulator(created.template, new Set(deployed.resources.keys()));
  console.log(`  accepted but not modelled by moto: ${skipped.length} (${countBy(skipped.map((s) => s.type))})`);

  await checks.run('subnets: one per tier and AZ, on the address plan', async () => checkSubnets(deployed, base.template, preset.maxAzs));
  // Egress as the template intends it: through NAT (a NAT gateway or instance in the template), or
  // AWS services only (no NAT: web and app subnets route nowhere outside the VPC, like data).
  const natIntended = Object.values<any>(base.template.Resources).some((r) => r.Type === 'AWS::EC2::NatGateway'
    || (r.Type === 'AWS::EC2::Instance' && r.Properties?.SourceDestCheck === false));
  await checks.run(`routes: data subnets reach no internet or NAT gateway; web/app ${natIntended ? 'through NAT' : 'reach nothing outside the VPC (AWS services only)'}; public through the IGW`,
    async () => checkRoutes(deployed, natIntended));
  await checks.run('security groups: ingress rules as deployed equal the intended graph, edge for edge', async () => {
    const intended = intendedEdges(base.template).filter((e) => e.direction === 'ingress');
    const { missing, unexpected: extra } = compareEdges(intended, deployed.edges.filter((e) => e.direction === 'ingress'));
    const labels = groupLabels(base.template);
    if (missing.length === 0 && extra.length === 0) {
      console.log(`         ${intended.length} ingress edges: ${intended.map((e) => edgeText(e, labels)).join('; ')}`);
    }
    return [...missing.map((e) => `missing: ${edgeText(e, labels)}`), ...extra.map((e) => `unexpected: ${edgeText(e, labels)}`)];
  });
  const intendedEgress = intendedEdges(base.template).filter((e) => e.direction === 'egress');
  checks.skip(`security groups: ${intendedEgress.length} egress rules`,
    'moto ignores inline SecurityGroupEgress and has no AWS::EC2::SecurityGroupEgress model; every group keeps its default allow-all egress');
  await checks.run(`database: private, encrypted with the stack's key, Multi-AZ ${preset.multiAz}, in the data subnets`, async () => checkDatabase(deployed, base.template, preset.multiAz));
  for (const tier of ['web', 'app'] as const) {
    const expected = tier === 'web'
      ? { min: preset.webMinCapacity, max: preset.webMaxCapacity, type: preset.webInstanceType.toString() }
      : { min: preset.appMinCapacity, max: preset.appMaxCapacity, type: preset.appInstanceType.toString() };
    await checks.run(`${tier} fleet: ${expected.min}..${expected.max} x ${expected.type}, instances healthy in the target group, IMDSv2 required`, async () =>
      checkFleet(deployed, tier, expected));
  }

  // --- boot: both fleets' user data, tokens resolved to this deployment's values, run on this machine ---
  await checks.run('boot rehearsal: both fleets\' user data runs unmodified, NGINX serves the app through the load balancer (scripts/lib/rehearsal)', async () => {
    const { missing, rehearsal: r } = await session.rehearse({
      name: example, ...ENV, stackName, stackId, template: base.template, startCommand: 'node server.js', apiProbePath: '/api/hello',
    });
    if (!r) return missing;
    console.log(`         app ${(r.app!.durationMs / 1000).toFixed(1)} s, web ${(r.web!.durationMs / 1000).toFixed(1)} s`);
    return rehearsalProblems(r);
  });

  // --- update ---
  const stateful = statefulPhysicalIds(deployed);
  const subnetGroupBefore = deployed.database?.subnetGroupName;
  try {
    result = await updateStack({ cfn: c.cfn, stackName, template: updated.template, store, timeoutSeconds: 300 });
    t.update = result.ms;
    checks.pass('update: UPDATE_COMPLETE', formatDuration(result.ms));
  } catch (e) {
    checks.fail('update: UPDATE_COMPLETE', (e as Error).message);
  }
  if (t.update !== undefined) {
    deployed = await inspectStack(c, stackName, update.template);
    for (const tier of ['web', 'app'] as const) {
      const expected = tier === 'web'
        ? { min: variant.webMinCapacity, max: variant.webMaxCapacity, type: variant.webInstanceType }
        : { min: variant.appMinCapacity, max: variant.appMaxCapacity, type: variant.appInstanceType };
      await checks.run(`update: ${tier} fleet now ${expected.min}..${expected.max} x ${expected.type}, tagged ${variant.tag.key}=${variant.tag.value}`, async () => {
        const problems = checkFleet(deployed, tier, expected);
        const fleet = deployed.fleets.find((f) => f.tier === tier);
        if (fleet && fleet.tags[variant.tag.key] !== variant.tag.value) {
          problems.push(`tag ${variant.tag.key} is ${JSON.stringify(fleet.tags[variant.tag.key])}`);
        }
        return problems;
      });
    }
    await checks.run('update: database, buckets and KMS keys are the same physical resources', async () => {
      const after = statefulPhysicalIds(deployed);
      const problems: string[] = [];
      for (const [id, before] of stateful) {
        const now = after.get(id)?.physicalId;
        if (now !== before.physicalId) problems.push(`${before.type} ${id}: ${before.physicalId} -> ${now ?? '(gone)'}`);
      }
      // moto reports no physical ID for a DB subnet group: compare the database's instead.
      if (deployed.database?.subnetGroupName !== subnetGroupBefore) {
        problems.push(`the database's subnet group: ${subnetGroupBefore} -> ${deployed.database?.subnetGroupName}`);
      }
      if (problems.length === 0) console.log(`         ${stateful.size} stateful resources kept: ${countBy([...stateful.values()].map((s) => s.type))}`);
      return problems;
    });
  }

  // --- delete ---
  const retainedBuckets = [...deployed.resources.entries()]
    .filter(([id, r]) => r.type === 'AWS::S3::Bucket' && base.template.Resources[id]?.DeletionPolicy === 'Retain')
    .map(([, r]) => r.physicalId);
  const dbEntry = [...deployed.resources.entries()].find(([, r]) => r.type === 'AWS::RDS::DBInstance');
  try {
    result = await deleteStack({ cfn: c.cfn, stackName, timeoutSeconds: 300 });
    t.delete = result.ms;
    checks.pass('delete: DELETE_COMPLETE', formatDuration(result.ms));
  } catch (e) {
    checks.fail('delete: DELETE_COMPLETE', (e as Error).message);
    return;
  }
  await checks.run(`delete: the ${retainedBuckets.length} retained bucket(s) still exist`, async () => {
    const problems: string[] = [];
    for (const b of retainedBuckets) {
      try {
        await c.s3.send(new HeadBucketCommand({ Bucket: b }));
      } catch (e) {
        problems.push(`${b}: ${(e as Error).name}`);
      }
    }
    return problems;
  });
  if (dbEntry) {
    const [dbId, db] = dbEntry;
    const policy = base.template.Resources[dbId]?.DeletionPolicy ?? 'Delete';
    const name = `delete: the database follows DeletionPolicy ${policy}`;
    const instances = await c.rds.send(new DescribeDBInstancesCommand({})).then((r) => r.DBInstances ?? []);
    const stillThere = instances.some((i) => i.DBInstanceIdentifier === db.physicalId);
    const snapshots = await c.rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: db.physicalId }))
      .then((r) => r.DBSnapshots ?? []).catch(() => []);
    const manual = snapshots.filter((s) => s.SnapshotType !== 'automated');
    if (policy === 'Retain') {
      checks.expect(name, stillThere ? [] : ['the instance is gone'], 'instance retained');
    } else if (policy === 'Snapshot') {
      if (manual.length > 0) checks.pass(name, `final snapshot ${manual[0].DBSnapshotIdentifier}`);
      else if (stillThere) checks.fail(name, 'the instance still exists');
      else checks.skip(name, 'moto deletes the instance without the final snapshot that DeletionPolicy: Snapshot asks for (the template has the policy)');
    } else {
      checks.expect(name, stillThere ? ['the instance still exists'] : [], 'instance deleted');
    }
  }
}

/** Physical IDs of the stateful resources (those the emulator reports one for). */
function statefulPhysicalIds(d: DeployedStack): Map<string, { physicalId: string; type: string }> {
  return new Map([...d.resources.entries()]
    .filter(([, r]) => STATEFUL_TYPES.includes(r.type) && r.physicalId !== '')
    .map(([id, r]) => [id, { physicalId: r.physicalId, type: r.type }]));
}

function checkSubnets(d: DeployedStack, template: any, maxAzs: number): string[] {
  const problems: string[] = [];
  const vpcRes = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::EC2::VPC');
  const vpcCidr: string = vpcRes?.Properties?.CidrBlock;
  if (!d.vpc) return ['no VPC deployed'];
  if (d.vpc.cidr !== vpcCidr) problems.push(`VPC CIDR ${d.vpc.cidr}, intended ${vpcCidr}`);
  const azs = [...new Set(d.subnets.map((s) => s.az))].sort();
  if (azs.length !== maxAzs) problems.push(`subnets in ${azs.length} AZs (${azs.join(', ')}), the preset says ${maxAzs}`);
  const seen = new Set<string>();
  for (const tier of TIERS) {
    azs.forEach((az, i) => {
      const want = subnetCidr(vpcCidr, tier, i);
      const got = d.subnets.filter((s) => s.tier === tier && s.az === az);
      if (got.length !== 1) problems.push(`${tier} in ${az}: ${got.length} subnets`);
      else if (got[0].cidr !== want) problems.push(`${tier} in ${az}: ${got[0].cidr}, planned ${want}`);
      got.forEach((s) => seen.add(s.id));
    });
  }
  for (const s of d.subnets.filter((x) => !seen.has(x.id))) problems.push(`unexpected subnet ${s.id} ${s.cidr} (${s.tier}, ${s.az})`);
  if (problems.length === 0) {
    console.log(`         ${d.subnets.length} subnets: ${TIERS.map((tier) => `${tier} ${d.subnets.filter((s) => s.tier === tier).map((s) => s.cidr).join(' ')}`).join('; ')}`);
  }
  return problems;
}

function checkRoutes(d: DeployedStack, natIntended: boolean): string[] {
  const problems: string[] = [];
  for (const s of d.subnets) {
    const out = s.routes.map(routeLeavesVpc).filter((x): x is string => x !== undefined);
    const defaultRoute = s.routes.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    const isolated = s.tier === 'Data' || ((s.tier === 'Web' || s.tier === 'App') && !natIntended);
    if (isolated && out.length > 0) problems.push(`${s.tier} subnet ${s.id} (${s.az}) routes to ${out.join(', ')}`);
    if ((s.tier === 'Web' || s.tier === 'App') && natIntended
      && !(defaultRoute && (defaultRoute.NatGatewayId || defaultRoute.InstanceId || defaultRoute.NetworkInterfaceId))) {
      problems.push(`${s.tier} subnet ${s.id} (${s.az}) has no default route through NAT`);
    }
    if (s.tier === 'Public' && !defaultRoute?.GatewayId?.startsWith('igw-')) problems.push(`public subnet ${s.id} (${s.az}) has no default route to the internet gateway`);
    if (s.associationFrom === 'main') problems.push(`${s.tier} subnet ${s.id} (${s.az}) uses the VPC's main route table`);
  }
  if (problems.length === 0 && d.subnets.some((s) => s.associationFrom === 'template')) {
    console.log('         (subnet-to-route-table associations from the template: moto does not report the ones CloudFormation made; the routes are as deployed)');
  }
  return problems;
}

function checkDatabase(d: DeployedStack, template: any, multiAz: boolean): string[] {
  const db = d.database;
  if (!db) return ['no database deployed'];
  const problems: string[] = [];
  if (db.publiclyAccessible !== false) problems.push(`PubliclyAccessible is ${db.publiclyAccessible}`);
  if (db.storageEncrypted !== true) problems.push(`StorageEncrypted is ${db.storageEncrypted}`);
  const dbRes = Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::RDS::DBInstance');
  const keyLogicalId = dbRes?.Properties?.KmsKeyId?.['Fn::GetAtt']?.[0];
  const keyId = keyLogicalId ? d.resources.get(keyLogicalId)?.physicalId : undefined;
  if (!keyId) problems.push('the template names no KMS key of the stack for the database');
  else if (!db.kmsKeyId?.includes(keyId)) problems.push(`encrypted with ${db.kmsKeyId}, not the stack's key ${keyId}`);
  if (db.multiAz !== multiAz) problems.push(`MultiAZ is ${db.multiAz}, the preset says ${multiAz}`);
  const dataSubnets = new Set(d.subnets.filter((s) => s.tier === 'Data').map((s) => s.id));
  const outside = db.subnetIds.filter((s) => !dataSubnets.has(s));
  if (db.subnetIds.length === 0) problems.push('its subnet group has no subnets');
  if (outside.length) problems.push(`its subnet group has non-data subnets ${outside.join(', ')}`);
  return problems;
}

function checkFleet(d: DeployedStack, tier: 'web' | 'app', expected: { min: number; max: number; type: string }): string[] {
  const fleet = d.fleets.find((f) => f.tier === tier);
  if (!fleet) return [`no ${tier} Auto Scaling Group deployed`];
  const problems: string[] = [];
  if (fleet.minSize !== expected.min || fleet.maxSize !== expected.max) problems.push(`capacity ${fleet.minSize}..${fleet.maxSize}, intended ${expected.min}..${expected.max}`);
  const inService = fleet.instances.filter((i) => i.lifecycle === 'InService');
  if (inService.length !== fleet.desiredCapacity || fleet.desiredCapacity < expected.min) {
    problems.push(`${inService.length} instances in service, desired ${fleet.desiredCapacity}, minimum ${expected.min}`);
  }
  const tgs = Object.entries(fleet.targetHealth);
  if (tgs.length === 0) problems.push('registered in no target group');
  for (const [arn, health] of tgs) {
    for (const i of inService) {
      if (health[i.id] !== 'healthy') problems.push(`${i.id} is ${health[i.id] ?? 'not registered'} in ${arn.split('/').slice(-2, -1)[0]}`);
    }
  }
  const tierSubnets = new Set(d.subnets.filter((s) => s.tier.toLowerCase() === tier).map((s) => s.id));
  const outside = fleet.subnetIds.filter((s) => !tierSubnets.has(s));
  if (outside.length) problems.push(`launches into non-${tier} subnets ${outside.join(', ')}`);
  const lt = fleet.launchTemplate;
  if (!lt) {problems.push('no launch template');} else {
    if (lt.instanceType !== expected.type) problems.push(`launch template version ${lt.version} has ${lt.instanceType}, intended ${expected.type}`);
    if (lt.httpTokens !== 'required') problems.push(`launch template version ${lt.version} has HttpTokens ${lt.httpTokens} (IMDSv2 not required)`);
  }
  return problems;
}

runScript('deploy:test', main);
