import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  AlarmThresholds, AppTier, DataTier, DataTierProps, EgressMode, HttpOnlyPolicy, InterfaceEndpointService, NatMode, NetworkTier,
  OffHoursSchedule, Preset, PresetValues, WebTier,
} from '../src';
import { API_SOURCE, newStack, PRESET_NAMES, PRESETS, PresetName, synthPlatform, SynthesizedPlatform } from './support/stacks';
import { flatten, bootFile, launchTemplateUserData, onlyResource, refId, resourcesOfType, subnetsOf, tagsOf } from './support/template';
import { presetEgress } from '../src/network/network-inputs';
import { DEFAULT_ALARM_THRESHOLDS } from '../src/preset/alarm-threshold-values';

type Field = keyof PresetValues;

/** A synthesized platform as the preset makes it, and what HTTP only did. */
interface Observation {
  readonly synthesized: SynthesizedPlatform;
  readonly httpOnly: HttpOnlyPolicy;
}

/**
 * Synthesizes the platform without a certificate. If that throws (HTTP only refused), the policy
 * is ERROR and the platform is synthesized again with `allowHttpOnly: true`.
 */
function observe(preset: Preset): Observation {
  try {
    const synthesized = synthPlatform(preset, { web: { allowHttpOnly: false } });
    const warned = Annotations.fromStack(synthesized.stack).findWarning('*', Match.stringLikeRegexp('cdk-three-tier:httpOnly')).length > 0;
    return { synthesized, httpOnly: warned ? HttpOnlyPolicy.WARN : HttpOnlyPolicy.ALLOW };
  } catch (e) {
    expect(String(e)).toMatch(/certificate \(undefined\) is required with the \w+ preset/);
    return { synthesized: synthPlatform(preset, { web: { allowHttpOnly: true } }), httpOnly: HttpOnlyPolicy.ERROR };
  }
}

const lbAttribute = (t: Template, prefix: string, key: string) =>
  onlyResource(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer', prefix).properties.LoadBalancerAttributes.find((a: any) => a.Key === key)?.Value;
const launchTemplate = (t: Template, tier: string) => onlyResource(t, 'AWS::EC2::LaunchTemplate', `Platform${tier}LaunchTemplate`).properties.LaunchTemplateData;
const asg = (t: Template, tier: string) => onlyResource(t, 'AWS::AutoScaling::AutoScalingGroup', `Platform${tier}AutoScalingGroup`).properties;
const db = (t: Template) => onlyResource(t, 'AWS::RDS::DBInstance');
/** The backup plan's rules, name to DeleteAfterDays (`{}` without a plan). */
const backupRuleDays = (t: Template): Record<string, number> => Object.fromEntries(resourcesOfType(t, 'AWS::Backup::BackupPlan')
  .flatMap((plan) => plan.properties.BackupPlan.BackupPlanRule.map((r: any) => [r.RuleName, r.Lifecycle.DeleteAfterDays])));

/** The alarms (logical-id middle after `PlatformMonitoring`) each threshold sets, and the unit of their Threshold. */
const THRESHOLD_ALARMS: Record<keyof AlarmThresholds, [string[], number]> = {
  loadBalancer5xxPercent: [['Web5xxRate'], 1],
  p99LatencySeconds: [['WebP99Latency'], 1],
  fleetCpuPercent: [['WebCpu', 'AppCpu'], 1],
  fleetMemoryPercent: [['WebMemory', 'AppMemory'], 1],
  fleetDiskPercent: [['WebDisk', 'AppDisk'], 1],
  databaseCpuPercent: [['DatabaseCpu'], 1],
  databaseFreeStorageGiB: [['DatabaseFreeStorage'], 1024 ** 3],
  databaseFreeableMemoryMiB: [['DatabaseFreeableMemory'], 1024 ** 2],
  databaseConnections: [['DatabaseConnections'], 1],
  wafBlockedRequests: [['WebWafBlocked', 'AppWafBlocked'], 1],
};

/** How each preset field shows in a synthesized platform. */
const OBSERVED: Record<Field, (o: Observation) => unknown> = {
  name: ({ synthesized: { template } }) => tagsOf(onlyResource(template, 'AWS::EC2::VPC').properties).environment,
  maxAzs: ({ synthesized: { template } }) => new Set(subnetsOf(template).map((s) => s.az)).size,
  // Web and app subnets with a default route (to NAT) have internet egress; without one, AWS only.
  egress: ({ synthesized: { template } }) => {
    const routed = subnetsOf(template).filter((s) => ['Web', 'App'].includes(s.group))
      .map((s) => s.routes.some((r) => r.DestinationCidrBlock === '0.0.0.0/0'));
    if (routed.every((r) => r)) return EgressMode.INTERNET_HTTPS;
    return routed.some((r) => r) ? 'mixed' : EgressMode.AWS_SERVICES_ONLY;
  },
  natMode: ({ synthesized: { template } }) => {
    const gateways = resourcesOfType(template, 'AWS::EC2::NatGateway').length;
    const instances = resourcesOfType(template, 'AWS::EC2::Instance');
    if (instances.length === 1 && gateways === 0) return `instance ${instances[0].properties.InstanceType}`;
    if (instances.length > 0) return 'unexpected NAT instances';
    const azs = new Set(subnetsOf(template).map((s) => s.az)).size;
    return gateways === 0 ? 'none' : gateways === 1 ? 'single-gateway' : gateways === azs ? 'gateway-per-az' : `${gateways} gateways`;
  },
  interfaceEndpoints: ({ synthesized: { template } }) => resourcesOfType(template, 'AWS::EC2::VPCEndpoint')
    .filter((e) => e.properties.VpcEndpointType === 'Interface')
    .map((e) => String(e.properties.ServiceName).split('.').pop())
    .sort(),
  flowLogRetention: ({ synthesized: { template } }) => {
    const group = refId(onlyResource(template, 'AWS::EC2::FlowLog').properties.LogGroupName)!;
    return template.toJSON().Resources[group].Properties.RetentionInDays;
  },
  accessLogExpirationDays: ({ synthesized: { template } }) =>
    onlyResource(template, 'AWS::S3::Bucket', 'PlatformAccessLogBucket').properties.LifecycleConfiguration.Rules[0].ExpirationInDays,
  loadBalancerDeletionProtection: ({ synthesized: { template } }) => {
    const values = ['PlatformWebLoadBalancer', 'PlatformAppLoadBalancer'].map((p) => lbAttribute(template, p, 'deletion_protection.enabled'));
    return values[0] === values[1] ? values[0] === 'true' : `web ${values[0]}, app ${values[1]}`;
  },
  httpOnlyPolicy: ({ httpOnly }) => httpOnly,
  webInstanceType: ({ synthesized: { template } }) => launchTemplate(template, 'Web').InstanceType,
  webMinCapacity: ({ synthesized: { template } }) => Number(asg(template, 'Web').MinSize),
  webMaxCapacity: ({ synthesized: { template } }) => Number(asg(template, 'Web').MaxSize),
  appInstanceType: ({ synthesized: { template } }) => launchTemplate(template, 'App').InstanceType,
  appMinCapacity: ({ synthesized: { template } }) => Number(asg(template, 'App').MinSize),
  appMaxCapacity: ({ synthesized: { template } }) => Number(asg(template, 'App').MaxSize),
  databaseInstanceType: ({ synthesized: { template } }) => db(template).properties.DBInstanceClass,
  multiAz: ({ synthesized: { template } }) => db(template).properties.MultiAZ,
  allocatedStorageGiB: ({ synthesized: { template } }) => Number(db(template).properties.AllocatedStorage),
  maxAllocatedStorageGiB: ({ synthesized: { template } }) => db(template).properties.MaxAllocatedStorage,
  backupRetention: ({ synthesized: { template } }) => db(template).properties.BackupRetentionPeriod,
  databaseDeletionProtection: ({ synthesized: { template } }) => db(template).properties.DeletionProtection,
  databaseRemovalPolicy: ({ synthesized: { template } }) => db(template).resource.DeletionPolicy,
  monitoringInterval: ({ synthesized: { template } }) => db(template).properties.MonitoringInterval ?? 0,
  backupPlan: ({ synthesized: { template } }) => resourcesOfType(template, 'AWS::Backup::BackupPlan').length === 1,
  monthlyBackups: ({ synthesized: { template } }) => 'Monthly' in backupRuleDays(template),
  spotInstances: ({ synthesized: { template } }) => {
    const spot = ['Web', 'App'].map((tier) => asg(template, tier).MixedInstancesPolicy !== undefined);
    return spot[0] === spot[1] ? spot[0] : `web ${spot[0]}, app ${spot[1]}`;
  },
  // Every scheduled action as `<tier> <down|up> <Recurrence>@<TimeZone>`, sorted.
  offHoursSchedule: ({ synthesized: { template } }) => resourcesOfType(template, 'AWS::AutoScaling::ScheduledAction').map((a) => {
    const tier = ['Web', 'App'].find((t) => refId(a.properties.AutoScalingGroupName)?.startsWith(`Platform${t}AutoScalingGroup`)) ?? 'other';
    return `${tier} ${a.properties.MinSize === 0 ? 'down' : 'up'} ${a.properties.Recurrence}@${a.properties.TimeZone}`;
  }).sort(),
  alarmThresholds: ({ synthesized: { template } }) => {
    const observed: Record<string, unknown> = {};
    for (const [field, [alarms, unit]] of Object.entries(THRESHOLD_ALARMS)) {
      const values = [...new Set(alarms.map((a) => Number(onlyResource(template, 'AWS::CloudWatch::Alarm', `PlatformMonitoring${a}Alarm`).properties.Threshold) / unit))];
      observed[field] = values.length === 1 ? values[0] : values;
    }
    return observed;
  },
  backupRules: ({ synthesized: { template } }) => backupRuleDays(template),
  monthlyBudgetUsd: ({ synthesized: { template } }) => {
    const budgets = resourcesOfType(template, 'AWS::Budgets::Budget').map((b) => b.properties.Budget.BudgetLimit);
    if (budgets.length === 0) return undefined;
    return budgets.length === 1 && budgets[0].Unit === 'USD' ? budgets[0].Amount : budgets;
  },
  // The database's log exports (Custom::LogRetention on /aws/rds/instance/...) and the instances'
  // log groups (encrypted with the fleets' instance log keys).
  logRetention: ({ synthesized: { template } }) => {
    const database = resourcesOfType(template, 'Custom::LogRetention')
      .filter((r) => flatten(r.properties.LogGroupName).startsWith('/aws/rds/instance/'));
    const instances = resourcesOfType(template, 'AWS::Logs::LogGroup')
      .filter((g) => /^Platform(Web|App)InstanceLogKey/.test(refId(g.properties.KmsKeyId) ?? ''));
    if (database.length === 0 || instances.length === 0) return `database ${database.length}, instance ${instances.length} log groups`;
    const days = [...new Set([...database, ...instances].map((r) => Number(r.properties.RetentionInDays)))];
    return days.length === 1 ? days[0] : days;
  },
};

const DELETION_POLICY: Record<string, string> = {
  [RemovalPolicy.DESTROY]: 'Delete',
  [RemovalPolicy.SNAPSHOT]: 'Snapshot',
  [RemovalPolicy.RETAIN]: 'Retain',
};

/** What each preset field should look like in the template. */
const EXPECTED: Record<Field, (v: PresetValues) => unknown> = {
  name: (v) => v.name,
  maxAzs: (v) => v.maxAzs,
  egress: (v) => presetEgress(v),
  // The preset's NAT is used with internet egress only.
  natMode: (v) => (presetEgress(v) === EgressMode.AWS_SERVICES_ONLY ? 'none'
    : v.natMode.mode === 'instance' ? `instance ${v.natMode.instanceType}` : v.natMode.mode),
  interfaceEndpoints: (v) => [...v.interfaceEndpoints].sort(),
  flowLogRetention: (v) => v.flowLogRetention,
  accessLogExpirationDays: (v) => v.accessLogExpirationDays,
  loadBalancerDeletionProtection: (v) => v.loadBalancerDeletionProtection,
  httpOnlyPolicy: (v) => v.httpOnlyPolicy,
  webInstanceType: (v) => v.webInstanceType.toString(),
  webMinCapacity: (v) => v.webMinCapacity,
  webMaxCapacity: (v) => v.webMaxCapacity,
  appInstanceType: (v) => v.appInstanceType.toString(),
  appMinCapacity: (v) => v.appMinCapacity,
  appMaxCapacity: (v) => v.appMaxCapacity,
  databaseInstanceType: (v) => `db.${v.databaseInstanceType}`,
  multiAz: (v) => v.multiAz,
  allocatedStorageGiB: (v) => v.allocatedStorageGiB,
  maxAllocatedStorageGiB: (v) => v.maxAllocatedStorageGiB,
  backupRetention: (v) => v.backupRetention.toDays(),
  databaseDeletionProtection: (v) => v.databaseDeletionProtection,
  databaseRemovalPolicy: (v) => DELETION_POLICY[v.databaseRemovalPolicy],
  monitoringInterval: (v) => v.monitoringInterval.toSeconds(),
  backupPlan: (v) => v.backupPlan,
  // monthlyBackups shapes the plan only without backupRules.
  monthlyBackups: (v) => v.backupPlan && (v.backupRules ? v.backupRules.monthly !== undefined : v.monthlyBackups),
  spotInstances: (v) => v.spotInstances ?? false,
  offHoursSchedule: (v) => {
    const schedule = v.offHoursSchedule?.schedule;
    if (!schedule) return [];
    const zone = schedule.timeZone ?? 'UTC';
    return ['Web', 'App'].flatMap((tier) => [
      `${tier} down ${schedule.scaleDown.expressionString}@${zone}`,
      `${tier} up ${schedule.scaleUp.expressionString}@${zone}`,
    ]).sort();
  },
  alarmThresholds: (v) => ({ ...DEFAULT_ALARM_THRESHOLDS, ...v.alarmThresholds }),
  // Without backupRules: daily backups 35 days, and monthly ones a year with monthlyBackups.
  backupRules: (v) => {
    if (!v.backupPlan) return {};
    const rules = v.backupRules ?? { daily: Duration.days(35), monthly: v.monthlyBackups ? Duration.days(365) : undefined };
    return Object.fromEntries(([['Daily', rules.daily], ['Weekly', rules.weekly], ['Monthly', rules.monthly]] as const)
      .filter(([, d]) => d !== undefined).map(([name, d]) => [name, d!.toDays()]));
  },
  monthlyBudgetUsd: (v) => v.monthlyBudgetUsd,
  logRetention: (v) => v.logRetention ?? logs.RetentionDays.ONE_MONTH,
};
const FIELDS = Object.keys(EXPECTED) as Field[];

/** Every field Preset.custom knows, as its error for an unknown field lists them. */
function knownFields(): string[] {
  try {
    Preset.custom({ ...Preset.dev().values, notAField: 1 } as PresetValues);
  } catch (e) {
    const list = /is not a PresetValues field \((.*)\) in Preset\.custom\(\)$/.exec(String((e as Error).message));
    if (list) return list[1].split(', ');
  }
  throw new Error('Preset.custom accepted an unknown field or did not list the fields');
}

test('every PresetValues field has a check here', () => {
  expect(knownFields().sort()).toEqual([...FIELDS].sort());
  expect(Object.keys(OBSERVED).sort()).toEqual([...FIELDS].sort());
});

test.each(PRESET_NAMES)('%s: the preset sets only known fields', (preset) => {
  expect(FIELDS).toEqual(expect.arrayContaining(Object.keys(PRESETS[preset]().values)));
});

/** The documented values (the props' @default docs and the README table say the same). */
test('the presets hold the documented values', () => {
  const table = (f: (v: PresetValues) => unknown) => PRESET_NAMES.map((p) => f(PRESETS[p]().values));
  expect(table((v) => v.maxAzs)).toEqual([2, 2, 3]);
  expect(table((v) => v.egress)).toEqual([EgressMode.INTERNET_HTTPS, EgressMode.INTERNET_HTTPS, EgressMode.AWS_SERVICES_ONLY]);
  expect(table((v) => v.natMode.toString())).toEqual(['NatMode.instance(t3.nano)', 'NatMode.singleGateway()', 'NatMode.gatewayPerAz()']);
  expect(table((v) => EXPECTED.natMode(v))).toEqual(['instance t3.nano', 'single-gateway', 'none']);
  expect(table((v) => v.interfaceEndpoints.length)).toEqual([0, 0, 9]);
  expect(table((v) => v.flowLogRetention)).toEqual([logs.RetentionDays.ONE_WEEK, logs.RetentionDays.ONE_MONTH, logs.RetentionDays.ONE_YEAR]);
  expect(table((v) => v.accessLogExpirationDays)).toEqual([30, 90, 365]);
  expect(table((v) => v.loadBalancerDeletionProtection)).toEqual([false, false, true]);
  expect(table((v) => v.httpOnlyPolicy)).toEqual([HttpOnlyPolicy.ALLOW, HttpOnlyPolicy.WARN, HttpOnlyPolicy.ERROR]);
  expect(table((v) => `${v.webInstanceType} ${v.webMinCapacity}-${v.webMaxCapacity}`)).toEqual(['t3.micro 1-2', 't3.small 2-4', 'm7i.large 3-9']);
  expect(table((v) => `${v.appInstanceType} ${v.appMinCapacity}-${v.appMaxCapacity}`)).toEqual(['t3.micro 1-2', 't3.small 2-4', 'm7i.large 3-9']);
  expect(table((v) => v.databaseInstanceType.toString())).toEqual(['t4g.micro', 't4g.medium', 'r7g.large']);
  expect(table((v) => v.multiAz)).toEqual([false, true, true]);
  expect(table((v) => `${v.allocatedStorageGiB}-${v.maxAllocatedStorageGiB}`)).toEqual(['20-50', '20-100', '100-1000']);
  expect(table((v) => v.backupRetention.toDays())).toEqual([1, 7, 30]);
  expect(table((v) => v.databaseDeletionProtection)).toEqual([false, false, true]);
  expect(table((v) => v.databaseRemovalPolicy)).toEqual([RemovalPolicy.DESTROY, RemovalPolicy.SNAPSHOT, RemovalPolicy.SNAPSHOT]);
  expect(table((v) => v.monitoringInterval.toSeconds())).toEqual([60, 60, 30]);
  expect(table((v) => v.backupPlan)).toEqual([false, true, true]);
  expect(table((v) => v.monthlyBackups)).toEqual([false, false, true]);
  expect(table((v) => v.spotInstances)).toEqual([true, false, false]);
  const hours = (s?: OffHoursSchedule) => (s?.schedule ? `${s.schedule.scaleUp.expressionString} / ${s.schedule.scaleDown.expressionString} ${s.schedule.timeZone ?? 'UTC'}` : 'always on');
  expect(table((v) => hours(v.offHoursSchedule))).toEqual(['0 7 * * MON-FRI / 0 20 * * MON-FRI UTC', '0 7 * * MON-FRI / 0 20 * * MON-FRI UTC', 'always on']);
  // Each threshold as [dev, staging, prod], as AlarmThresholds documents them.
  const thresholds = (Object.keys(THRESHOLD_ALARMS) as Array<keyof AlarmThresholds>).map((k) => [k, table((v) => v.alarmThresholds?.[k])]);
  expect(Object.fromEntries(thresholds)).toEqual({
    loadBalancer5xxPercent: [5, 2, 1],
    p99LatencySeconds: [3, 2, 1.5],
    fleetCpuPercent: [90, 85, 80],
    fleetMemoryPercent: [90, 85, 80],
    fleetDiskPercent: [90, 85, 80],
    databaseCpuPercent: [90, 85, 80],
    databaseFreeStorageGiB: [2, 5, 20],
    databaseFreeableMemoryMiB: [64, 256, 1024],
    databaseConnections: [60, 270, 1000],
    wafBlockedRequests: [100, 200, 500],
  });
  expect(table((v) => Object.keys(v.alarmThresholds ?? {}).sort())).toEqual(PRESET_NAMES.map(() => Object.keys(THRESHOLD_ALARMS).sort()));
  // The library default (a custom preset without alarmThresholds) is staging's.
  expect(EXPECTED.alarmThresholds({ ...Preset.dev().values, alarmThresholds: undefined })).toEqual(Preset.staging().values.alarmThresholds);
  expect(table((v) => Object.entries(v.backupRules ?? {}).map(([k, d]) => `${k} ${d.toDays()}`).join(', ') || 'none'))
    .toEqual(['none', 'daily 7, weekly 35', 'daily 35, weekly 84, monthly 365']);
  expect(table((v) => v.monthlyBudgetUsd)).toEqual([150, 500, 3000]);
  expect(table((v) => v.logRetention)).toEqual([logs.RetentionDays.ONE_WEEK, logs.RetentionDays.ONE_MONTH, logs.RetentionDays.ONE_YEAR]);
});

/** The optional fields added with cost controls, monitoring and budgets. */
const NEW_OPTIONAL_FIELDS: Field[] = ['spotInstances', 'offHoursSchedule', 'alarmThresholds', 'backupRules', 'monthlyBudgetUsd', 'logRetention'];

/** One observation per preset, shared by the tests below. */
const observations = new Map<PresetName, Observation>();
const observation = (preset: PresetName) => {
  if (!observations.has(preset)) observations.set(preset, observe(PRESETS[preset]()));
  return observations.get(preset)!;
};

describe.each(PRESET_NAMES)('%s preset in the synthesized platform', (preset) => {
  test.each(FIELDS)('%s', (field) => {
    expect(OBSERVED[field](observation(preset))).toEqual(EXPECTED[field](PRESETS[preset]().values));
  });
});

describe('priority: tier prop > preset > library default', () => {
  test('platform options win over the prod preset; the fields not overridden keep the preset values', () => {
    const c7i = ec2.InstanceType.of(ec2.InstanceClass.C7I, ec2.InstanceSize.XLARGE);
    const r7g = ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.XLARGE);
    const synthesized = synthPlatform('prod', {
      network: { maxAzs: 2, natMode: NatMode.singleGateway(), interfaceEndpoints: [InterfaceEndpointService.SSM] },
      web: { instanceType: c7i, minCapacity: 2, maxCapacity: 5 },
      app: { source: API_SOURCE, instanceType: c7i, minCapacity: 4, maxCapacity: 6 },
      data: { instanceType: r7g, multiAz: false },
    });
    const overridden: Observation = { synthesized, httpOnly: HttpOnlyPolicy.ERROR };
    const expected: Record<string, unknown> = Object.fromEntries(FIELDS.map((f) => [f, EXPECTED[f](Preset.prod().values)]));
    Object.assign(expected, {
      maxAzs: 2,
      // A NAT given without an egress means internet egress, over the prod preset's AWS-only egress.
      egress: EgressMode.INTERNET_HTTPS,
      natMode: 'single-gateway',
      interfaceEndpoints: ['ssm'],
      webInstanceType: 'c7i.xlarge',
      webMinCapacity: 2,
      webMaxCapacity: 5,
      appInstanceType: 'c7i.xlarge',
      appMinCapacity: 4,
      appMaxCapacity: 6,
      databaseInstanceType: 'db.r7g.xlarge',
      multiAz: false,
    });
    expect(Object.fromEntries(FIELDS.map((f) => [f, OBSERVED[f](overridden)]))).toEqual(expected);
  });

  test('tier props win over the preset for the fields the platform does not expose', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network', { preset: Preset.prod(), flowLogRetention: logs.RetentionDays.THREE_DAYS, natMode: NatMode.none() });
    const data = new DataTier(stack, 'Data', {
      vpc: network.vpc,
      vpcSubnets: network.dataSubnets,
      preset: Preset.prod(),
      allocatedStorageGiB: 30,
      maxAllocatedStorageGiB: 40,
      backupRetention: Duration.days(3),
      deletionProtection: false,
      removalPolicy: RemovalPolicy.RETAIN,
      monitoringInterval: Duration.seconds(0),
      backupPlan: false,
      rotation: false,
    });
    new WebTier(stack, 'Web', {
      vpc: network.vpc,
      apiEndpoint: 'api.internal.example:80',
      preset: Preset.prod(),
      allowHttpOnly: true,
      instanceSubnets: network.webSubnets,
      deletionProtection: false,
      accessLogExpirationDays: 5,
    });
    expect(data.performanceInsightsEnabled).toBe(true);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 3 });
    const instance = db(template);
    expect(instance.properties).toMatchObject({
      AllocatedStorage: '30', MaxAllocatedStorage: 40, BackupRetentionPeriod: 3, DeletionProtection: false,
    });
    expect(instance.properties.MonitoringInterval).toBeUndefined();
    expect(instance.resource.DeletionPolicy).toBe('Retain');
    template.resourceCountIs('AWS::Backup::BackupPlan', 0);
    expect(lbAttribute(template, 'WebLoadBalancer', 'deletion_protection.enabled')).toBe('false');
    template.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 5 })] } });
  });

  test('without a preset every tier uses Preset.dev()', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network');
    const data = new DataTier(stack, 'Data', { vpc: network.vpc, vpcSubnets: network.dataSubnets, rotation: false });
    const app = new AppTier(stack, 'App', { vpc: network.vpc, vpcSubnets: network.appSubnets, source: API_SOURCE, database: data });
    new WebTier(stack, 'Web', { vpc: network.vpc, instanceSubnets: network.webSubnets, apiEndpoint: app.endpoint });
    const template = Template.fromStack(stack);
    const dev = Preset.dev().values;
    expect(network.maxAzs).toBe(dev.maxAzs);
    expect(network.natMode?.mode).toBe(dev.natMode.mode);
    template.resourceCountIs('AWS::EC2::Instance', 1);
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t4g.micro', MultiAZ: false, BackupRetentionPeriod: 1 });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '2' });
    template.resourceCountIs('AWS::Backup::BackupPlan', 0);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('cdk-three-tier:httpOnly'));
  });

  test('a custom preset flows through like the built-in ones', () => {
    const perf = Preset.custom({ ...Preset.prod().values, name: 'perf', webMinCapacity: 4, webMaxCapacity: 12, multiAz: false, backupPlan: false });
    const { template } = synthPlatform(perf);
    expect(OBSERVED.name({ synthesized: { template } as SynthesizedPlatform, httpOnly: HttpOnlyPolicy.ERROR })).toBe('perf');
    expect(Number(asg(template, 'Web').MinSize)).toBe(4);
    expect(Number(asg(template, 'Web').MaxSize)).toBe(12);
    expect(db(template).properties.MultiAZ).toBe(false);
    expect(db(template).properties.DBInstanceClass).toBe('db.r7g.large');
  });

  test('a custom preset sets every optional field its own way', () => {
    const values: PresetValues = {
      ...Preset.prod().values,
      name: 'perf',
      spotInstances: true,
      offHoursSchedule: OffHoursSchedule.weekdays({ startHour: 8, endHour: 18, timeZone: 'Europe/Berlin' }),
      // A partial set: the other thresholds come from the library default.
      alarmThresholds: { loadBalancer5xxPercent: 7, databaseFreeStorageGiB: 3, databaseConnections: 123 },
      backupRules: { weekly: Duration.days(14) },
      monthlyBudgetUsd: 1234,
      logRetention: logs.RetentionDays.THREE_DAYS,
    };
    const observed = observe(Preset.custom(values));
    expect(Object.fromEntries(FIELDS.map((f) => [f, OBSERVED[f](observed)])))
      .toEqual(Object.fromEntries(FIELDS.map((f) => [f, EXPECTED[f](values)])));
    // Not the built-in values: each new field really moved.
    expect(OBSERVED.offHoursSchedule(observed)).toContain('Web up 0 8 * * MON-FRI@Europe/Berlin');
    expect(OBSERVED.alarmThresholds(observed)).toMatchObject({ loadBalancer5xxPercent: 7, databaseFreeStorageGiB: 3, fleetCpuPercent: 85 });
    expect(OBSERVED.backupRules(observed)).toEqual({ Weekly: 14 });
    expect(OBSERVED.monthlyBudgetUsd(observed)).toBe(1234);
    expect(OBSERVED.logRetention(observed)).toBe(3);
    expect(OBSERVED.flowLogRetention(observed)).toBe(365);
  });

  test('a custom preset without the optional fields (as in earlier releases) gets the documented defaults', () => {
    const values: Record<string, unknown> = { ...Preset.prod().values, name: 'legacy' };
    for (const field of NEW_OPTIONAL_FIELDS) delete values[field];
    const observed = observe(Preset.custom(values as unknown as PresetValues));
    expect(Object.fromEntries(FIELDS.map((f) => [f, OBSERVED[f](observed)])))
      .toEqual(Object.fromEntries(FIELDS.map((f) => [f, EXPECTED[f](values as unknown as PresetValues)])));
    expect(OBSERVED.spotInstances(observed)).toBe(false);
    expect(OBSERVED.offHoursSchedule(observed)).toEqual([]);
    expect(OBSERVED.backupRules(observed)).toEqual({ Daily: 35, Monthly: 365 });
    expect(OBSERVED.monthlyBudgetUsd(observed)).toBeUndefined();
    expect(OBSERVED.logRetention(observed)).toBe(logs.RetentionDays.ONE_MONTH);
  });
});

describe('library defaults (documented @default values)', () => {
  let dev: SynthesizedPlatform;
  let script: string;
  beforeAll(() => {
    dev = observation('dev').synthesized;
    script = launchTemplateUserData(dev.template, onlyResource(dev.template, 'AWS::EC2::LaunchTemplate', 'PlatformAppLaunchTemplate').id);
  });

  test.each<[string, () => unknown, unknown]>([
    ['cidr 10.0.0.0/16', () => onlyResource(dev.template, 'AWS::EC2::VPC').properties.CidrBlock, '10.0.0.0/16'],
    ['app port 8080', () => bootFile(script, '/etc/cdk-three-tier/app.env').split('\n').find((l) => l.startsWith('PORT=')), 'PORT="8080"'],
    ['app listener port 80', () => onlyResource(dev.template, 'AWS::ElasticLoadBalancingV2::Listener', 'PlatformAppLoadBalancerListener').properties.Port, 80],
    ['app health check /healthz', () => onlyResource(dev.template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'PlatformAppTargetGroup').properties.HealthCheckPath, '/healthz'],
    ['nodeVersion 22', () => script.includes('dnf install -y nodejs22 unzip'), true],
    ["startCommand 'node server.js'", () => bootFile(script, '/etc/cdk-three-tier/start.sh').split('\n').includes('node server.js'), true],
    ['web health check /nginx-health', () => onlyResource(dev.template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'PlatformWebTargetGroup').properties.HealthCheckPath, '/nginx-health'],
    ['cpuTargetUtilizationPercent 60 (both tiers)', () => resourcesOfType(dev.template, 'AWS::AutoScaling::ScalingPolicy')
      .filter((p) => p.properties.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType === 'ASGAverageCPUUtilization')
      .map((p) => p.properties.TargetTrackingConfiguration.TargetValue), [60, 60]],
    ['requestsPerTargetPerMinute 1000', () => resourcesOfType(dev.template, 'AWS::AutoScaling::ScalingPolicy')
      .filter((p) => p.properties.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType === 'ALBRequestCountPerTarget')
      .map((p) => p.properties.TargetTrackingConfiguration.TargetValue), [1000]],
    ["engineVersion '8.4.7'", () => db(dev.template).properties.EngineVersion, DataTier.DEFAULT_ENGINE_VERSION],
    ["databaseName 'app'", () => db(dev.template).properties.DBName, 'app'],
    ["masterUsername 'dbadmin'", () => db(dev.template).properties.MasterUsername, 'dbadmin'],
    ['database port 3306', () => db(dev.template).properties.Port, '3306'],
    ['rotation every 30 days', () => onlyResource(dev.template, 'AWS::SecretsManager::RotationSchedule').properties.RotationRules.ScheduleExpression, 'rate(30 days)'],
    ['root volume 16 GiB', () => launchTemplate(dev.template, 'Web').BlockDeviceMappings[0].Ebs.VolumeSize, 16],
    ['WAF on both load balancers', () => resourcesOfType(dev.template, 'AWS::WAFv2::WebACLAssociation').length, 2],
    ['NGINX body limit 10 MB', () => flatten(dev.stack.resolve(dev.platform.web.nginxConfig)).includes('client_max_body_size 10m;'), true],
  ])('%s', (_name, actual, expected) => {
    expect(actual()).toEqual(expected);
  });
});

describe('Preset.custom checks every field (plain JavaScript callers can pass anything)', () => {
  /** Fields a preset may leave out. */
  const OPTIONAL_FIELDS: Field[] = ['egress', ...NEW_OPTIONAL_FIELDS];
  const required = FIELDS.filter((f) => !OPTIONAL_FIELDS.includes(f));
  const custom = (values: unknown) => () => Preset.custom(values as PresetValues);
  const devWith = (field: string, value: unknown) => ({ ...Preset.dev().values, [field]: value });

  test('a partial values object names the first missing field', () => {
    expect(custom({ name: 'x' })).toThrow(/^values\.maxAzs \(undefined\) is required: it must be a number in Preset\.custom\(\)$/);
  });

  test.each(required)('values.%s is required', (field) => {
    const values: Record<string, unknown> = { ...Preset.dev().values };
    delete values[field];
    expect(custom(values)).toThrow(new RegExp(`^values\\.${field} \\(undefined\\) is required: it must `));
  });

  test.each(OPTIONAL_FIELDS)('values.%s may be left out', (field) => {
    const values: Record<string, unknown> = { ...Preset.staging().values };
    expect(values[field]).toBeDefined();
    delete values[field];
    expect(custom(values)).not.toThrow();
    expect(custom({ ...values, [field]: undefined })).not.toThrow();
  });

  test.each<[string, unknown, RegExp]>([
    ['name', '', /^values\.name \(''\) must be 1 to 128 characters valid in a tag value/],
    ['name', 42, /^values\.name \(42\) must be 1 to 128 characters/],
    ['maxAzs', '3', /^values\.maxAzs \('3'\) must be a number in Preset\.custom\(\)$/],
    ['webMinCapacity', '2', /^values\.webMinCapacity \('2'\) must be a number/],
    ['egress', 'everything', /^values\.egress \('everything'\) must be one of EgressMode/],
    ['natMode', 'instance', /^values\.natMode \('instance'\) must be a NatMode/],
    ['interfaceEndpoints', ['ssm', 'ftp'], /^values\.interfaceEndpoints \(\['ssm', 'ftp'\]\) must be a list of InterfaceEndpointService values/],
    ['flowLogRetention', 'ONE_WEEK', /^values\.flowLogRetention \('ONE_WEEK'\) must be one of logs\.RetentionDays/],
    ['httpOnlyPolicy', 'maybe', /^values\.httpOnlyPolicy \('maybe'\) must be one of HttpOnlyPolicy \("allow", "warn", "error"\)/],
    ['loadBalancerDeletionProtection', 'true', /^values\.loadBalancerDeletionProtection \('true'\) must be true or false/],
    ['webInstanceType', 't3.micro', /^values\.webInstanceType \('t3\.micro'\) must be an ec2\.InstanceType/],
    ['databaseInstanceType', {}, /^values\.databaseInstanceType \(\[object Object\]\) must be an ec2\.InstanceType/],
    ['backupRetention', 7, /^values\.backupRetention \(7\) must be a Duration/],
    ['monitoringInterval', '60s', /^values\.monitoringInterval \('60s'\) must be a Duration/],
    ['databaseRemovalPolicy', 'delete', /^values\.databaseRemovalPolicy \('delete'\) must be one of RemovalPolicy/],
    ['monthlyBackups', null, /^values\.monthlyBackups \(null\) is required: it must be true or false/],
    ['spotInstances', 'yes', /^values\.spotInstances \('yes'\) must be true or false in Preset\.custom\(\)$/],
    ['offHoursSchedule', '20:00-07:00', /^values\.offHoursSchedule \('20:00-07:00'\) must be an OffHoursSchedule/],
    ['alarmThresholds', 5, /^values\.alarmThresholds \(5\) must be an AlarmThresholds object/],
    ['alarmThresholds', [5], /^values\.alarmThresholds \(\[5\]\) must be an AlarmThresholds object/],
    ['backupRules', { daily: 7 }, /^values\.backupRules \(.*\) must be a BackupRules object/],
    ['backupRules', { yearly: Duration.days(365) }, /^values\.backupRules \(.*\) must be a BackupRules object/],
    ['monthlyBudgetUsd', '100', /^values\.monthlyBudgetUsd \('100'\) must be a number in Preset\.custom\(\)$/],
    ['logRetention', 'ONE_WEEK', /^values\.logRetention \('ONE_WEEK'\) must be one of logs\.RetentionDays/],
  ])('values.%s = %p is refused', (field, value, message) => {
    expect(custom(devWith(field, value))).toThrow(message);
  });

  test('an unknown field (a typo) is refused instead of ignored', () => {
    expect(custom(devWith('webMinCapcity', 3))).toThrow(/^values\.webMinCapcity \(3\) is not a PresetValues field \(name, maxAzs, .*\) in Preset\.custom\(\)$/);
  });

  test.each([undefined, null, 'prod', []])('values %p is refused', (values) => {
    expect(custom(values)).toThrow(/^values \(.*\) must be an object with every PresetValues field/);
  });

  test.each(PRESET_NAMES)('the %s preset passes the same checks', (preset) => {
    expect(Preset.custom(PRESETS[preset]().values).values).toEqual(PRESETS[preset]().values);
  });

  test('the preset keeps its own copy of the values', () => {
    const values = { ...Preset.dev().values, name: 'perf' };
    const preset = Preset.custom(values);
    (values as { name: string }).name = 'changed';
    expect(preset.values.name).toBe('perf');
    expect(preset.name).toBe('perf');
  });
});

describe('a bad value from a preset is reported under the preset field, not the tier prop', () => {
  const dataTier = (preset: Preset, props: Partial<DataTierProps> = {}, azs = 2) => () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: azs,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    });
    return new DataTier(stack, 'Data', { vpc, preset, rotation: false, ...props });
  };
  const devWith = (values: Partial<PresetValues>) => Preset.custom({ ...Preset.dev().values, ...values });

  test.each<[string, Partial<PresetValues>, Partial<DataTierProps>, RegExp]>([
    ['allocatedStorageGiB', { allocatedStorageGiB: 10 }, { allocatedStorageGiB: 10 }, /^(preset\.values\.)?allocatedStorageGiB \(10\) must be an integer from 20 to 65536 in Stack\/Data$/],
    ['maxAllocatedStorageGiB', { maxAllocatedStorageGiB: 70000 }, { maxAllocatedStorageGiB: 70000 }, /^(preset\.values\.)?maxAllocatedStorageGiB \(70000\) must be an integer from 20 to 65536/],
    ['backupRetention', { backupRetention: Duration.days(40) }, { backupRetention: Duration.days(40) }, /^(preset\.values\.)?backupRetention \('40 days'\) must be a whole number of days from 1 to 35/],
    ['monitoringInterval', { monitoringInterval: Duration.seconds(2) }, { monitoringInterval: Duration.seconds(2) }, /^(preset\.values\.)?monitoringInterval \('2 seconds'\) must be one of/],
    ['databaseInstanceType', { databaseInstanceType: new ec2.InstanceType('garbage') }, { instanceType: new ec2.InstanceType('garbage') },
      /^(preset\.values\.databaseInstanceType|instanceType) \('garbage'\) must be an instance class and size/],
  ])('%s', (field, presetValues, props, message) => {
    const fromPreset = dataTier(devWith(presetValues));
    const fromProp = dataTier(Preset.dev(), props);
    expect(fromPreset).toThrow(message);
    expect(fromPreset).toThrow(new RegExp(`^preset\\.values\\.${field} `));
    expect(fromProp).toThrow(message);
    expect(fromProp).not.toThrow(/preset\.values/);
    // A valid tier prop wins over the bad preset value.
    expect(dataTier(devWith(presetValues), Object.fromEntries(Object.keys(props).map((k) => [k, (Preset.dev().values as any)[k === 'instanceType' ? 'databaseInstanceType' : k]]))))
      .not.toThrow();
  });

  test('storage order: both sides named by where they came from', () => {
    expect(dataTier(devWith({ maxAllocatedStorageGiB: 30 }), { allocatedStorageGiB: 40 }))
      .toThrow(/^preset\.values\.maxAllocatedStorageGiB \(30\) must be >= allocatedStorageGiB \(40\)/);
  });

  test('multiAz from the preset in a VPC with one AZ', () => {
    expect(dataTier(devWith({ multiAz: true }), {}, 1)).toThrow(/^preset\.values\.multiAz \(true\) needs database subnets in at least 2 AZs \(found 1\)/);
    expect(dataTier(Preset.dev(), { multiAz: true }, 1)).toThrow(/^multiAz \(true\) needs database subnets/);
  });
});
