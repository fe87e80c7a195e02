import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Preset } from '../src';
import { API_SOURCE, PRESET_NAMES, PRESETS, synthPlatform, SynthesizedPlatform } from './support/stacks';
import { onlyResource, refId, resourcesOfType } from './support/template';
import { OffHoursSchedule } from '../src/fleet/off-hours-schedule';
import { accessLogTransitions } from '../src/private/fleet';
import { spotInstanceTypes } from '../src/private/fleet-group';

const byPreset = new Map<string, SynthesizedPlatform>();
const synth = (preset: (typeof PRESET_NAMES)[number]) => {
  if (!byPreset.has(preset)) byPreset.set(preset, synthPlatform(preset));
  return byPreset.get(preset)!;
};
const TIERS = ['Web', 'App'] as const;
const group = (s: SynthesizedPlatform, tier: string) => onlyResource(s.template, 'AWS::AutoScaling::AutoScalingGroup', `Platform${tier}AutoScalingGroup`);
const scheduledActions = (s: SynthesizedPlatform, tier: string) => resourcesOfType(s.template, 'AWS::AutoScaling::ScheduledAction')
  .filter((a) => refId(a.properties.AutoScalingGroupName) === group(s, tier).id);

describe('spot instances', () => {
  test.each(TIERS)('dev %s: a mixed instances policy over same-size types, price-capacity-optimized, capacity rebalancing', (tier) => {
    const s = synth('dev');
    const asg = group(s, tier);
    const lt = onlyResource(s.template, 'AWS::EC2::LaunchTemplate', `Platform${tier}LaunchTemplate`);
    expect(asg.properties.LaunchTemplate).toBeUndefined();
    expect(asg.properties.CapacityRebalance).toBe(true);
    const policy = asg.properties.MixedInstancesPolicy;
    expect(policy.LaunchTemplate.LaunchTemplateSpecification).toEqual({ LaunchTemplateId: { Ref: lt.id }, Version: { 'Fn::GetAtt': [lt.id, 'LatestVersionNumber'] } });
    expect(policy.LaunchTemplate.Overrides).toEqual([{ InstanceType: 't3.micro' }, { InstanceType: 't3a.micro' }]);
    expect(policy.InstancesDistribution).toEqual({ OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' });
    // Spot instances signal like on-demand ones: creation waits for the minimum capacity's signals.
    expect(asg.resource.CreationPolicy.ResourceSignal.Count).toBe(PRESETS.dev().values.webMinCapacity);
    expect(asg.resource.UpdatePolicy.AutoScalingRollingUpdate.WaitOnResourceSignals).toBe(true);
  });
  test.each(['staging', 'prod'] as const)('%s: on-demand, the launch template on the group', (preset) => {
    for (const tier of TIERS) {
      const asg = group(synth(preset), tier);
      expect(asg.properties.MixedInstancesPolicy).toBeUndefined();
      expect(asg.properties.CapacityRebalance).toBeUndefined();
      expect(asg.properties.LaunchTemplate).toBeDefined();
    }
  });
  test('the tier prop wins: prod web on spot with one on-demand instance as the base', () => {
    const s = synthPlatform('prod', { web: { spot: true, onDemandBaseCapacity: 1 } });
    const policy = group(s, 'Web').properties.MixedInstancesPolicy;
    expect(policy.LaunchTemplate.Overrides.map((o: any) => o.InstanceType)).toEqual(['m7i.large', 'm6i.large', 'm7a.large']);
    expect(policy.InstancesDistribution.OnDemandBaseCapacity).toBe(1);
    expect(group(s, 'App').properties.MixedInstancesPolicy).toBeUndefined();
  });
  test('spot: false turns off the preset spot', () => {
    expect(group(synthPlatform('dev', { app: { source: API_SOURCE, spot: false } }), 'App').properties.MixedInstancesPolicy).toBeUndefined();
  });
  test.each([
    ['without spot', 'prod', { onDemandBaseCapacity: 1 }, /onDemandBaseCapacity \(1\) needs spot instances \(preset\.values\.spotInstances is false\)/],
    ['out of range', 'dev', { onDemandBaseCapacity: 101 }, /onDemandBaseCapacity \(101\) must be an integer from 0 to 100/],
  ] as const)('onDemandBaseCapacity %s is refused', (_name, preset, web, error) => {
    expect(() => synthPlatform(preset, { web })).toThrow(error);
  });
  test('same-size substitutes of the same architecture; an unknown class stays alone', () => {
    expect(spotInstanceTypes(ec2.InstanceType.of(ec2.InstanceClass.M5, ec2.InstanceSize.XLARGE)).map(String)).toEqual(['m5.xlarge', 'm5a.xlarge', 'm6i.xlarge']);
    expect(spotInstanceTypes(new ec2.InstanceType('t4g.small')).map(String)).toEqual(['t4g.small']);
    expect(spotInstanceTypes(new ec2.InstanceType('x2idn.large')).map(String)).toEqual(['x2idn.large']);
  });
});

describe('scheduled scaling off hours', () => {
  test.each(['dev', 'staging'] as const)('%s: down to zero at 20:00 and back at 07:00 UTC, Monday to Friday; the maximum untouched', (preset) => {
    const s = synth(preset);
    for (const tier of TIERS) {
      const actions = scheduledActions(s, tier).map((a) => a.properties).sort((a, b) => a.Recurrence.localeCompare(b.Recurrence));
      const min = PRESETS[preset]().values[tier === 'Web' ? 'webMinCapacity' : 'appMinCapacity'];
      expect(actions).toEqual([
        expect.objectContaining({ Recurrence: '0 20 * * MON-FRI', TimeZone: 'UTC', MinSize: 0, DesiredCapacity: 0 }),
        expect.objectContaining({ Recurrence: '0 7 * * MON-FRI', TimeZone: 'UTC', MinSize: min, DesiredCapacity: min }),
      ]);
      expect(actions.every((a) => a.MaxSize === undefined)).toBe(true);
    }
  });
  test('prod: always on', () => {
    expect(resourcesOfType(synth('prod').template, 'AWS::AutoScaling::ScheduledAction')).toEqual([]);
  });
  test.each(PRESET_NAMES)('%s: a deployment at night neither undoes the scale-down nor waits for instances that are not there', (preset) => {
    for (const tier of TIERS) {
      const asg = group(synth(preset), tier);
      // CloudFormation leaves MinSize/MaxSize/DesiredCapacity that the template did not change alone.
      expect(asg.resource.UpdatePolicy.AutoScalingScheduledAction).toEqual({ IgnoreUnmodifiedGroupSizeProperties: true });
      // The scale-down never touches MaxSize, so MinInstancesInService stays below it (CloudFormation's
      // rule) at any hour; a group at zero has no instance to replace and so no signal to wait for.
      expect(asg.resource.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService).toBeLessThan(Number(asg.properties.MaxSize));
    }
  });
  test('a tier schedule of its own, in a time zone; alwaysOn() turns the preset schedule off', () => {
    const s = synthPlatform('dev', {
      web: { offHoursSchedule: OffHoursSchedule.cron({ scaleDown: autoscaling.Schedule.cron({ hour: '18', minute: '30' }), scaleUp: autoscaling.Schedule.cron({ hour: '6', minute: '0' }), timeZone: 'Europe/Berlin' }) },
      app: { source: API_SOURCE, offHoursSchedule: OffHoursSchedule.alwaysOn() },
    });
    expect(scheduledActions(s, 'Web').map((a) => [a.properties.Recurrence, a.properties.TimeZone]).sort()).toEqual([['0 6 * * *', 'Europe/Berlin'], ['30 18 * * *', 'Europe/Berlin']]);
    expect(scheduledActions(s, 'App')).toEqual([]);
  });
  const cron = (hour: string) => autoscaling.Schedule.cron({ hour, minute: '0' });
  test.each([
    ['an unknown time zone', { scaleDown: cron('20'), scaleUp: cron('7'), timeZone: 'Mars/Olympus Mons' }, /offHoursSchedule\.timeZone \('Mars\/Olympus Mons'\) must be an IANA time zone name/],
    ['the same time twice', { scaleDown: cron('7'), scaleUp: cron('7') }, /offHoursSchedule\.scaleUp \('0 7 \* \* \*'\) must differ from scaleDown/],
    ['a six-field expression', { scaleDown: autoscaling.Schedule.expression('0 0 20 * * *'), scaleUp: cron('7') }, /offHoursSchedule\.scaleDown \('0 0 20 \* \* \*'\) must be an autoscaling\.Schedule of five cron fields/],
  ])('refuses %s', (_name, props, error) => {
    expect(() => synthPlatform('dev', { web: { offHoursSchedule: OffHoursSchedule.cron(props as any) } })).toThrow(error);
  });
  test.each([
    [{ startHour: 24 }, /startHour \(24\) must be an integer from 0 to 23/],
    [{ startHour: 9, endHour: 9 }, /endHour \(9\) must be after startHour \(9\)/],
  ])('weekdays(%j) is refused', (options, error) => {
    expect(() => OffHoursSchedule.weekdays(options)).toThrow(error);
  });
  test('a custom preset without the new fields: on-demand, always on, log retention one month', () => {
    const { spotInstances: _s, offHoursSchedule: _o, logRetention: _l, ...older } = Preset.dev().values;
    const s = synthPlatform(Preset.custom({ ...older, name: 'older' }));
    expect(resourcesOfType(s.template, 'AWS::AutoScaling::ScheduledAction')).toEqual([]);
    expect(group(s, 'Web').properties.MixedInstancesPolicy).toBeUndefined();
    const nginx = resourcesOfType(s.template, 'AWS::Logs::LogGroup').filter((g) => g.id.startsWith('PlatformWebNginxAccess'));
    expect(nginx.map((g) => g.properties.RetentionInDays)).toEqual([30]);
  });
});

describe('EBS volumes with a customer managed key Auto Scaling may use', () => {
  test.each(TIERS)('%s: the root volume is encrypted with the fleet key, which rotates', (tier) => {
    const s = synth('prod');
    const lt = onlyResource(s.template, 'AWS::EC2::LaunchTemplate', `Platform${tier}LaunchTemplate`);
    const ebs = lt.properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs;
    expect(ebs.Encrypted).toBe(true);
    const keyId = ebs.KmsKeyId['Fn::GetAtt'][0];
    expect(keyId).toMatch(new RegExp(`^Platform${tier}VolumeKey`));
    expect(s.template.toJSON().Resources[keyId].Properties.EnableKeyRotation).toBe(true);
  });
  test.each(TIERS)('%s: the key policy lets AWSServiceRoleForAutoScaling use the key and create grants for AWS resources', (tier) => {
    const s = synth('dev');
    const key = onlyResource(s.template, 'AWS::KMS::Key', `Platform${tier}VolumeKey`);
    const statements: any[] = key.properties.KeyPolicy.Statement;
    const forAutoScaling = statements.filter((st) => JSON.stringify(st.Condition ?? {}).includes('role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling'));
    const actions = forAutoScaling.flatMap((st) => [st.Action].flat());
    expect(actions.sort()).toEqual(['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);
    const grant = forAutoScaling.find((st) => st.Action === 'kms:CreateGrant');
    expect(grant.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': true });
    expect(forAutoScaling.every((st) => st.Effect === 'Allow' && st.Condition.ArnEquals['aws:PrincipalArn'])).toBe(true);
  });
});

describe('access-log bucket lifecycle', () => {
  test.each([[1, []], [30, []], [31, ['STANDARD_IA@30']], [179, ['STANDARD_IA@30']], [180, ['STANDARD_IA@30', 'GLACIER_IR@90']], [3650, ['STANDARD_IA@30', 'GLACIER_IR@90']]])(
    'kept %i days: %j', (days, expected) => {
      const transitions = accessLogTransitions(days);
      expect(transitions.map((t) => `${t.storageClass.value}@${t.transitionAfter!.toDays()}`)).toEqual(expected);
      for (const t of transitions) expect(t.transitionAfter!.toDays()).toBeLessThan(days);
    });
  test.each(PRESET_NAMES)('%s: the buckets carry the transitions of their expiration', (preset) => {
    const days = PRESETS[preset]().values.accessLogExpirationDays;
    for (const bucket of resourcesOfType(synth(preset).template, 'AWS::S3::Bucket').filter((b) => b.id.includes('AccessLogBucket'))) {
      const rule = bucket.properties.LifecycleConfiguration.Rules.find((r: any) => r.ExpirationInDays === days);
      const expected = accessLogTransitions(days).map((t) => ({ StorageClass: t.storageClass.value, TransitionInDays: t.transitionAfter!.toDays() }));
      expect(rule.Transitions ?? []).toEqual(expected);
    }
  });
});
