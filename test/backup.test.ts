import { Duration, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DataTier, DataTierProps, Preset } from '../src';
import { newStack, PRESETS, PresetName } from './support/stacks';
import { onlyResource, resourcesOfType } from './support/template';

function synth(preset: PresetName | Preset, props: Partial<DataTierProps> = {}, stack: Stack = newStack(), extend?: (data: DataTier) => void) {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  const data = new DataTier(stack, 'Data', { vpc, preset: typeof preset === 'string' ? PRESETS[preset]() : preset, ...props });
  extend?.(data);
  return { stack, data, template: Template.fromStack(stack) };
}

/** The plan's rules as name -> [schedule, days kept, copy destinations]. */
function rules(template: Template): Record<string, [string, number, unknown[]]> {
  const plan = onlyResource(template, 'AWS::Backup::BackupPlan').properties.BackupPlan;
  return Object.fromEntries(plan.BackupPlanRule.map((r: any) => [r.RuleName,
    [r.ScheduleExpression, r.Lifecycle.DeleteAfterDays, r.CopyActions ?? []]]));
}

describe('backup rules per preset', () => {
  test.each<[PresetName, Record<string, [string, number]>]>([
    ['staging', { Daily: ['cron(0 5 * * ? *)', 7], Weekly: ['cron(0 5 ? * SAT *)', 35] }],
    ['prod', { Daily: ['cron(0 5 * * ? *)', 35], Weekly: ['cron(0 5 ? * SAT *)', 84], Monthly: ['cron(0 5 1 * ? *)', 365] }],
  ])('%s', (preset, expected) => {
    const found = rules(synth(preset).template);
    expect(Object.fromEntries(Object.entries(found).map(([k, [s, d]]) => [k, [s, d]]))).toEqual(expected);
  });

  test('dev has no plan, and the preset values match what is built', () => {
    expect(Preset.dev().values.backupPlan).toBe(false);
    synth('dev').template.resourceCountIs('AWS::Backup::BackupPlan', 0);
    expect(Preset.prod().values.backupRules!.monthly!.toDays()).toBe(365);
  });

  test('backupRules wins over the preset; a rule left out is not created', () => {
    const found = rules(synth('prod', { backupRules: { weekly: Duration.days(14) } }).template);
    expect(Object.keys(found)).toEqual(['Weekly']);
    expect(found.Weekly[1]).toBe(14);
  });

  test('a custom preset without backupRules keeps the earlier shape (daily 35 days, monthly a year)', () => {
    const { backupRules, ...values } = Preset.prod().values;
    expect(backupRules).toBeDefined();
    const found = rules(synth(Preset.custom({ ...values, name: 'old', monthlyBackups: true })).template);
    expect(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v[1]]))).toEqual({ Daily: 35, Monthly: 365 });
  });

  test('the vault and plan keep their logical IDs', () => {
    const { template } = synth('prod');
    expect(onlyResource(template, 'AWS::Backup::BackupVault').id).toMatch(/^DataBackupVault/);
    expect(onlyResource(template, 'AWS::Backup::BackupPlan').id).toMatch(/^DataBackupPlan[0-9A-F]{8}$/);
  });
});

describe('tag-based selection', () => {
  test('the database carries the tag the selection matches; a resource tagged the same way is selected too', () => {
    const stack = newStack();
    const { data, template } = synth('staging', {}, stack, (tier) => {
      const table = new dynamodb.Table(stack, 'Orders', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
      Tags.of(table).add(tier.backupTagKey, tier.backupTagValue!);
    });
    const [byArn, byTag] = ['DataBackupPlanSelection', 'DataBackupPlanTagSelection'].map((id) => onlyResource(template, 'AWS::Backup::BackupSelection', id).properties.BackupSelection);
    expect(byTag.ListOfTags).toEqual([{ ConditionType: 'STRINGEQUALS', ConditionKey: 'cdk-three-tier:backup', ConditionValue: data.backupTagValue }]);
    expect(byTag.Resources).toBeUndefined();
    // The database stays selected by ARN too (the selection of earlier releases), with the same role.
    expect(JSON.stringify(byArn.Resources)).toContain(onlyResource(template, 'AWS::RDS::DBInstance').id);
    expect(byTag.IamRoleArn).toEqual(byArn.IamRoleArn);
    const tag = { Key: 'cdk-three-tier:backup', Value: data.backupTagValue };
    expect(onlyResource(template, 'AWS::RDS::DBInstance').properties.Tags).toContainEqual(tag);
    expect(onlyResource(template, 'AWS::DynamoDB::Table').properties.Tags).toContainEqual(tag);
  });

  test('two data tiers select different tag values', () => {
    const stack = newStack();
    let b: DataTier | undefined;
    const a = synth('staging', {}, stack, (tier) => {
      b = new DataTier(stack, 'Data2', { vpc: tier.database.vpc, preset: Preset.staging() });
    }).data;
    expect(a.backupTagValue).toMatch(/^StackData[0-9A-F]{8}$/);
    expect(b!.backupTagValue).toMatch(/^StackData2[0-9A-F]{8}$/);
  });
});

describe('copy to another region', () => {
  const ARN = 'arn:aws:backup:us-west-2:123456789012:backup-vault:shop-dr';

  test('every rule copies to the vault, kept as long as the original', () => {
    const stack = newStack();
    const vault = backup.BackupVault.fromBackupVaultArn(stack, 'Dr', ARN);
    const found = rules(synth('prod', { backupCopyVault: vault }, stack).template);
    for (const [, days, copies] of Object.values(found)) {
      expect(copies).toEqual([{ DestinationBackupVaultArn: ARN, Lifecycle: { DeleteAfterDays: days } }]);
    }
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('backupCopySameRegion'))).toHaveLength(0);
  });

  test('a vault in the same region works with a warning', () => {
    const stack = newStack();
    const vault = backup.BackupVault.fromBackupVaultArn(stack, 'Same', ARN.replace('us-west-2', 'us-east-1'));
    synth('prod', { backupCopyVault: vault }, stack);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('backupCopySameRegion'))).toHaveLength(1);
  });
});

describe('invalid backup input', () => {
  test.each<[string, Partial<DataTierProps>, RegExp]>([
    ['no rule', { backupRules: {} }, /^backupRules \('\{\}'\) must set at least one of daily, weekly, monthly/],
    ['hours', { backupRules: { daily: Duration.hours(36) } }, /^backupRules\.daily \('1\.5 days'\) must be whole days from 1 to 36500 in Stack\/Data$/],
    ['too long', { backupRules: { monthly: Duration.days(40000) } }, /^backupRules\.monthly \('40000 days'\) must be whole days/],
    ['rules without a plan', { backupPlan: false, backupRules: { daily: Duration.days(7) } }, /^backupRules \('set'\) needs the backup plan/],
  ])('%s', (_, props, message) => {
    expect(() => synth('prod', props)).toThrow(message);
  });

  test('a custom preset with bad rules names the preset field', () => {
    const preset = Preset.custom({ ...Preset.prod().values, name: 'x', backupRules: { weekly: Duration.days(0) } });
    expect(() => synth(preset)).toThrow(/^preset\.values\.backupRules\.weekly \('0 days'\) must be whole days/);
    expect(() => Preset.custom({ ...Preset.prod().values, backupRules: { yearly: Duration.days(1) } as any }))
      .toThrow(/values\.backupRules .* must be a BackupRules object/);
  });
});

describe('RDS log exports', () => {
  test.each<[PresetName, number]>([['dev', 7], ['staging', 30], ['prod', 365]])('%s: every exported log group has a retention (%i days)', (preset, days) => {
    const { template } = synth(preset);
    const exported: string[] = onlyResource(template, 'AWS::RDS::DBInstance').properties.EnableCloudwatchLogsExports;
    const retentions = resourcesOfType(template, 'Custom::LogRetention');
    const named = retentions.map((r) => JSON.stringify(r.properties.LogGroupName));
    expect(exported.length).toBeGreaterThan(0);
    for (const log of exported) expect(named.filter((n) => n.includes(`/${log}`))).toHaveLength(1);
    for (const r of retentions) expect(r.properties.RetentionInDays).toBe(days);
  });

  test('logRetention wins over the preset', () => {
    const { template } = synth('prod', { logRetention: logs.RetentionDays.TWO_WEEKS });
    for (const r of resourcesOfType(template, 'Custom::LogRetention')) expect(r.properties.RetentionInDays).toBe(14);
  });
});

