import * as fs from 'fs';
import * as path from 'path';
import { ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { changedResources, findStatefulReplacements, STATEFUL_RESOURCE_TYPES } from './support/template-diff';
import { exampleEnv, PLACEHOLDER_API } from '../examples/common';
import { EXAMPLES as EXAMPLE_NAMES, ExampleName, synthesizeExample } from '../scripts/lib/examples';
import { Preset, ThreeTierPlatform, ThreeTierPlatformProps } from '../src';

/**
 * Upgrade safety: deploying the current version over a stack made by the last release must not
 * remove or replace any stateful resource. The released templates are committed in
 * test/fixtures/released (refreshed only at release time, see the README there).
 */

const FIXTURES = path.join(__dirname, 'fixtures', 'released');
const released = (name: ExampleName) => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.template.json`), 'utf8'));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));
const logicalIdOf = (template: any, type: string, pattern?: RegExp) =>
  Object.keys(template.Resources).find((id) => template.Resources[id].Type === type && (!pattern || pattern.test(id)))!;

// Synthesized once per example, from the example apps themselves.
const current = new Map<ExampleName, any>();
function currentTemplate(name: ExampleName): any {
  if (!current.has(name)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    current.set(name, synthesizeExample(name, (p) => jest.isolateModules(() => require(p))));
  }
  return current.get(name);
}

describe('upgrading from the last release keeps every stateful resource', () => {
  test.each(EXAMPLE_NAMES)('%s', (name) => {
    const findings = findStatefulReplacements(released(name), currentTemplate(name));
    expect(findings.map((f) => f.message)).toEqual([]);
  }, 120_000);

  test.each(EXAMPLE_NAMES)('the released %s template has the stateful resources the check guards', (name) => {
    const types = new Set(Object.values<any>(released(name).Resources).map((r) => r.Type));
    for (const type of ['AWS::RDS::DBInstance', 'AWS::RDS::DBSubnetGroup', 'AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup']) {
      expect(STATEFUL_RESOURCE_TYPES).toContain(type);
      expect(types).toContain(type);
    }
  });
});

describe('the check fails on a destructive change (mutated copies of the released dev template)', () => {
  const base = released('dev');
  const dbId = logicalIdOf(base, 'AWS::RDS::DBInstance');

  test('a database identifier set: DBInstanceIdentifier requires replacement', () => {
    const next = clone(base);
    next.Resources[dbId].Properties.DBInstanceIdentifier = 'renamed-database';
    const findings = findStatefulReplacements(base, next);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ logicalId: dbId, type: 'AWS::RDS::DBInstance', kind: 'replaced', property: 'DBInstanceIdentifier' });
    expect(findings[0].message).toContain(dbId);
    expect(findings[0].message).toContain('DBInstanceIdentifier');
  });

  test('another engine: Engine may require replacement', () => {
    const next = clone(base);
    next.Resources[dbId].Properties.Engine = 'mariadb';
    expect(findStatefulReplacements(base, next)).toEqual([
      expect.objectContaining({ logicalId: dbId, kind: 'may be replaced', property: 'Engine' }),
    ]);
  });

  test('a bucket whose logical ID changes (a renamed construct) disappears', () => {
    const bucketId = logicalIdOf(base, 'AWS::S3::Bucket');
    const next = clone(base);
    next.Resources[`${bucketId}Renamed`] = next.Resources[bucketId];
    delete next.Resources[bucketId];
    const findings = findStatefulReplacements(base, next);
    expect(findings).toEqual([expect.objectContaining({ logicalId: bucketId, type: 'AWS::S3::Bucket', kind: 'removed' })]);
    expect(findings[0].message).toMatch(new RegExp(`AWS::S3::Bucket ${bucketId} disappears`));
  });

  test('a log group given a name is replaced', () => {
    const logId = logicalIdOf(base, 'AWS::Logs::LogGroup');
    const next = clone(base);
    next.Resources[logId].Properties.LogGroupName = '/cdk-three-tier/renamed';
    expect(findStatefulReplacements(base, next)).toEqual([
      expect.objectContaining({ logicalId: logId, kind: 'replaced', property: 'LogGroupName' }),
    ]);
  });

  test('a replaced DB subnet group replaces the database that refers to it', () => {
    const groupId = logicalIdOf(base, 'AWS::RDS::DBSubnetGroup');
    const next = clone(base);
    next.Resources[groupId].Properties.DBSubnetGroupName = 'renamed-subnet-group';
    const findings = findStatefulReplacements(base, next);
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ logicalId: groupId, kind: 'replaced', property: 'DBSubnetGroupName' }),
      expect.objectContaining({ logicalId: dbId, kind: 'replaced', property: 'DBSubnetGroupName', via: groupId }),
    ]));
    expect(findings).toHaveLength(2);
  });

  test('a KMS key whose logical ID changes disappears, and the database encrypted with it is replaced', () => {
    const keyId = base.Resources[dbId].Properties.KmsKeyId['Fn::GetAtt'][0];
    const next = clone(base);
    const renamed = `${keyId}Renamed`;
    next.Resources[renamed] = next.Resources[keyId];
    delete next.Resources[keyId];
    const text = JSON.stringify(next).split(`"${keyId}"`).join(`"${renamed}"`);
    const findings = findStatefulReplacements(base, JSON.parse(text));
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ logicalId: keyId, type: 'AWS::KMS::Key', kind: 'removed' }),
      expect.objectContaining({ logicalId: dbId, kind: 'replaced', property: 'KmsKeyId' }),
    ]));
  });

  test('a change to a stateless resource passes', () => {
    const ltId = logicalIdOf(base, 'AWS::EC2::LaunchTemplate');
    const next = clone(base);
    next.Resources[ltId].Properties.LaunchTemplateData.InstanceType = 't3.large';
    expect(findStatefulReplacements(base, next)).toEqual([]);
  });
});

describe('a launch template change only rolls the fleet', () => {
  /** The example's stack, built in this process, with changes to the platform's props. */
  function build(preset: () => Preset, change: (props: ThreeTierPlatformProps) => ThreeTierPlatformProps = (p) => p): any {
    const app = new App();
    const stack = new Stack(app, 'ThreeTierUpgrade', { env: exampleEnv(app) });
    new ThreeTierPlatform(stack, 'Platform', change({
      preset: preset(),
      projectName: 'cdk-three-tier-example',
      app: { source: PLACEHOLDER_API },
      web: { allowHttpOnly: true },
    }));
    return app.synth().getStackByName('ThreeTierUpgrade').template;
  }

  const CHANGES: Array<[string, 'Web' | 'App', (p: ThreeTierPlatformProps) => ThreeTierPlatformProps]> = [
    ['web instance type', 'Web', (p) => ({ ...p, web: { ...p.web, instanceType: new ec2.InstanceType('t3.large') } })],
    ['app user data (environment)', 'App', (p) => ({ ...p, app: { ...p.app, environment: { FEATURE_FLAG: 'on' } } })],
  ];
  const PRESETS: Array<[string, () => Preset]> = [['dev', Preset.dev], ['prod', Preset.prod]];

  describe.each(PRESETS)('%s', (_name, preset) => {
    let base: any;
    beforeAll(() => {
      base = build(preset);
    }, 60_000);

    test.each(CHANGES)('%s: a new launch template version, rolled out by the ASG, no stateful resource touched', (_change, tier, change) => {
      const next = build(preset, change);
      const changed = changedResources(base, next);

      // Only the tier's launch template (a new version, in place) and at most its ASG differ.
      const lt = changed.filter((c) => c.type === 'AWS::EC2::LaunchTemplate');
      expect(lt).toEqual([expect.objectContaining({ impact: ResourceImpact.WILL_UPDATE })]);
      expect(lt[0].logicalId).toMatch(new RegExp(`^Platform${tier}LaunchTemplate`));
      const others = changed.filter((c) => c.type !== 'AWS::EC2::LaunchTemplate');
      expect(others.filter((c) => c.type !== 'AWS::AutoScaling::AutoScalingGroup')).toEqual([]);
      expect(others.every((c) => c.impact !== ResourceImpact.WILL_REPLACE && c.impact !== ResourceImpact.MAY_REPLACE)).toBe(true);

      // No stateful resource differs at all.
      expect(changed.filter((c) => STATEFUL_RESOURCE_TYPES.includes(c.type))).toEqual([]);
      expect(findStatefulReplacements(base, next)).toEqual([]);

      // The ASG follows the launch template's latest version with a rolling update that waits for
      // each new instance's success signal.
      const asgId = Object.keys(next.Resources).find((id) => next.Resources[id].Type === 'AWS::AutoScaling::AutoScalingGroup' && id.startsWith(`Platform${tier}`))!;
      const asg = next.Resources[asgId];
      // On-demand fleets name the launch template directly, spot fleets (dev) in their mixed instances policy.
      const launchTemplate = asg.Properties.LaunchTemplate ?? asg.Properties.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      expect(launchTemplate).toEqual({
        LaunchTemplateId: { Ref: lt[0].logicalId },
        Version: { 'Fn::GetAtt': [lt[0].logicalId, 'LatestVersionNumber'] },
      });
      expect(asg.UpdatePolicy?.AutoScalingRollingUpdate).toMatchObject({ WaitOnResourceSignals: true, MaxBatchSize: 1 });
      expect(asg.CreationPolicy?.ResourceSignal?.Count).toBeGreaterThanOrEqual(1);
    }, 60_000);
  });
});
