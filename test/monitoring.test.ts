import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { Preset, ThreeTierPlatform } from '../src';
import { API_SOURCE, newStack, PRESET_NAMES, PRESETS, PresetName } from './support/stacks';
import { DASHBOARD_ROWS } from '../src/monitoring/dashboard';
import { PlatformMonitoringOptions } from '../src/monitoring/monitoring-options';
import { PlatformMonitoring } from '../src/monitoring/platform-monitoring';
import { PRESET_ALARM_THRESHOLDS } from '../src/preset/alarm-threshold-values';

jest.setTimeout(120_000);

interface Monitored {
  readonly stack: Stack;
  readonly platform: ThreeTierPlatform;
  readonly monitoring: PlatformMonitoring;
  readonly template: Template;
}

/** A platform (HTTP only allowed) with its monitoring created after it, as the platform will wire it. */
function monitored(preset: PresetName | Preset = 'dev', options: PlatformMonitoringOptions = {}, waf = true): Monitored {
  const stack = newStack();
  const p = typeof preset === 'string' ? PRESETS[preset]() : preset;
  // The platform's own monitoring, configured through its `monitoring` prop.
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset: p, app: { source: API_SOURCE, waf }, web: { allowHttpOnly: true, waf }, monitoring: options,
  });
  return { stack, platform, monitoring: platform.monitoring, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: any }>;

const refOf = (v: any): string | undefined => (v && typeof v === 'object' && typeof v.Ref === 'string' ? v.Ref : undefined);
const getAttOf = (v: any, attribute: string): string | undefined =>
  (v && Array.isArray(v['Fn::GetAtt']) && v['Fn::GetAtt'][1] === attribute ? v['Fn::GetAtt'][0] : undefined);

/**
 * The load balancer a `LoadBalancer` dimension names: its `LoadBalancerFullName`, or the
 * `app/<name>/<id>` part of one of its listeners' ARN (how target group metrics derive it).
 */
function loadBalancerId(resources: Resources, v: any): string | undefined {
  const direct = getAttOf(v, 'LoadBalancerFullName');
  if (direct) return direct;
  const parts = v?.['Fn::Join']?.[0] === '' ? v['Fn::Join'][1] : undefined;
  if (!Array.isArray(parts) || parts.length !== 5 || parts[1] !== '/' || parts[3] !== '/') return undefined;
  const listeners = [parts[0], parts[2], parts[4]].map((p: any, i) => {
    const select = p?.['Fn::Select'];
    const split = select?.[1]?.['Fn::Split'];
    return select?.[0] === i + 1 && split?.[0] === '/' ? refOf(split[1]) : undefined;
  });
  const listener = listeners[0];
  if (!listener || listeners.some((l) => l !== listener) || resources[listener]?.Type !== 'AWS::ElasticLoadBalancingV2::Listener') return undefined;
  return refOf(resources[listener].Properties.LoadBalancerArn);
}

/** Every metric an alarm watches (a single metric, or each metric of its math expression). */
function alarmMetrics(props: any): { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: any }[] }[] {
  if (props.MetricName) return [{ Namespace: props.Namespace, MetricName: props.MetricName, Dimensions: props.Dimensions }];
  return (props.Metrics ?? []).filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric);
}

/**
 * Why a metric can never have data in this stack (undefined when it can): its namespace and name
 * are ones the stack's resources publish, and each dimension names such a resource.
 */
function metricProblem(resources: Resources, region: string, metric: ReturnType<typeof alarmMetrics>[number]): string | undefined {
  const dims = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
  const names = Object.keys(dims).sort().join(',');
  const is = (id: string | undefined, type: string) => id !== undefined && resources[id]?.Type === type;
  const asg = (v: any, groupMetric?: string) => {
    const id = refOf(v);
    if (!is(id, 'AWS::AutoScaling::AutoScalingGroup')) return false;
    if (!groupMetric) return true;
    const collected = resources[id!].Properties.MetricsCollection ?? [];
    return collected.some((c: any) => c.Granularity === '1Minute' && (c.Metrics === undefined || c.Metrics.includes(groupMetric)));
  };
  const loadBalancer = (v: any) => is(loadBalancerId(resources, v), 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  const targetGroupOf = (tg: any, lb: any) => {
    const tgId = getAttOf(tg, 'TargetGroupFullName');
    const lbId = loadBalancerId(resources, lb);
    return is(tgId, 'AWS::ElasticLoadBalancingV2::TargetGroup') && Object.values(resources).some((r) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener'
      && refOf(r.Properties.LoadBalancerArn) === lbId && r.Properties.DefaultActions.some((a: any) => refOf(a.TargetGroupArn) === tgId));
  };
  const webAcl = (name: any) => Object.entries(resources).some(([id, r]) => r.Type === 'AWS::WAFv2::WebACL' && r.Properties.VisibilityConfig.MetricName === name
    && r.Properties.VisibilityConfig.CloudWatchMetricsEnabled === true
    && Object.values(resources).some((a) => a.Type === 'AWS::WAFv2::WebACLAssociation' && getAttOf(a.Properties.WebACLArn, 'Arn') === id));
  const key = `${metric.Namespace}/${metric.MetricName}`;
  const ok = (() => {
    switch (key) {
      case 'AWS/ApplicationELB/RequestCount': case 'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count': case 'AWS/ApplicationELB/HTTPCode_Target_5XX_Count':
      case 'AWS/ApplicationELB/TargetResponseTime':
        return names === 'LoadBalancer' && loadBalancer(dims.LoadBalancer);
      case 'AWS/ApplicationELB/HealthyHostCount': case 'AWS/ApplicationELB/UnHealthyHostCount':
        return names === 'LoadBalancer,TargetGroup' && targetGroupOf(dims.TargetGroup, dims.LoadBalancer);
      case 'AWS/AutoScaling/GroupInServiceInstances': case 'AWS/AutoScaling/GroupMinSize':
        return names === 'AutoScalingGroupName' && asg(dims.AutoScalingGroupName, metric.MetricName);
      case 'AWS/EC2/CPUUtilization': case 'CWAgent/mem_used_percent': case 'CWAgent/disk_used_percent':
        return names === 'AutoScalingGroupName' && asg(dims.AutoScalingGroupName);
      case 'AWS/RDS/CPUUtilization': case 'AWS/RDS/FreeStorageSpace': case 'AWS/RDS/FreeableMemory': case 'AWS/RDS/DatabaseConnections':
        return names === 'DBInstanceIdentifier' && is(refOf(dims.DBInstanceIdentifier), 'AWS::RDS::DBInstance');
      case 'AWS/WAFV2/BlockedRequests':
        return names === 'Region,Rule,WebACL' && dims.Rule === 'ALL' && dims.Region === region && webAcl(dims.WebACL);
      default:
        return false;
    }
  })();
  return ok ? undefined : `${key} ${JSON.stringify(metric.Dimensions)}`;
}

/** Problems of every alarm of a template: metrics that cannot exist, missing notifications. */
function alarmProblems(template: Template, region: string): string[] {
  const resources: Resources = template.toJSON().Resources;
  const topics = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::SNS::Topic');
  return Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').flatMap(([id, r]) => {
    const metrics = alarmMetrics(r.Properties);
    const problems = metrics.length === 0 ? ['no metric'] : metrics.map((m) => metricProblem(resources, region, m)).filter((p) => p !== undefined);
    for (const actions of ['AlarmActions', 'OKActions']) {
      const targets = (r.Properties[actions] ?? []).map(refOf);
      if (targets.length !== 1 || !topics.includes(targets[0])) problems.push(`${actions} ${JSON.stringify(r.Properties[actions])}`);
    }
    return problems.map((p) => `${id}: ${p}`);
  });
}

const alarmsOf = (template: Template) => Object.entries(template.findResources('AWS::CloudWatch::Alarm'));
const alarmById = (template: Template, prefix: string) => {
  const found = alarmsOf(template).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0][1].Properties;
};

describe.each(PRESET_NAMES)('%s preset', (name) => {
  const m = monitored(name);

  test('every alarm watches a metric a resource of the stack publishes, and notifies the topic on ALARM and OK', () => {
    expect(alarmProblems(m.template, 'us-east-1')).toEqual([]);
  });

  test('20 alarms: 2 on the public load balancer, 7 per fleet (with WAF), 4 on the database', () => {
    expect(alarmsOf(m.template)).toHaveLength(20);
    expect(m.monitoring.alarms).toHaveLength(20);
  });

  test('thresholds are the preset\'s', () => {
    const t = PRESET_ALARM_THRESHOLDS[name];
    expect(alarmById(m.template, 'PlatformMonitoringWeb5xxRateAlarm').Threshold).toBe(t.loadBalancer5xxPercent);
    expect(alarmById(m.template, 'PlatformMonitoringWebP99LatencyAlarm').Threshold).toBe(t.p99LatencySeconds);
    expect(alarmById(m.template, 'PlatformMonitoringAppMemoryAlarm').Threshold).toBe(t.fleetMemoryPercent);
    expect(alarmById(m.template, 'PlatformMonitoringDatabaseFreeStorageAlarm').Threshold).toBe(t.databaseFreeStorageGiB * 1024 ** 3);
    expect(alarmById(m.template, 'PlatformMonitoringDatabaseConnectionsAlarm').Threshold).toBe(t.databaseConnections);
    expect(alarmById(m.template, 'PlatformMonitoringWebWafBlockedAlarm').Threshold).toBe(t.wafBlockedRequests);
  });
});

test('the generic checker fails on an alarm whose metric cannot exist', () => {
  const m = monitored('dev');
  const resources: Resources = m.template.toJSON().Resources;
  const [id, alarm] = Object.entries(resources).find(([i]) => i.startsWith('PlatformMonitoringWebCpuAlarm'))!;
  const broken = JSON.parse(JSON.stringify(alarm));
  broken.Properties.Dimensions[0].Value = 'not-a-group';
  const wrongName = JSON.parse(JSON.stringify(alarm));
  wrongName.Properties.MetricName = 'CPUUtilisation';
  for (const variant of [broken, wrongName]) {
    const template = Template.fromJSON({ Resources: { ...resources, [id]: variant } });
    expect(alarmProblems(template, 'us-east-1')).toEqual([expect.stringContaining(id)]);
  }
});

test('missing data is treated deliberately: no traffic is no error, capacity alarms keep their state', () => {
  const m = monitored('prod');
  expect(alarmById(m.template, 'PlatformMonitoringWeb5xxRateAlarm').TreatMissingData).toBe('notBreaching');
  expect(alarmById(m.template, 'PlatformMonitoringWebCpuAlarm').TreatMissingData).toBe('notBreaching');
  expect(alarmById(m.template, 'PlatformMonitoringAppInServiceAlarm').TreatMissingData).toBe('missing');
  expect(alarmById(m.template, 'PlatformMonitoringDatabaseCpuAlarm').TreatMissingData).toBe('missing');
  expect(alarmById(m.template, 'PlatformMonitoringWebHealthyHostsAlarm').Metrics.find((x: any) => x.Expression).Expression).toBe('FILL(healthy, 0) - minSize');
});

test('without WAF there is no WAF alarm and no WAF widget (18 alarms)', () => {
  const m = monitored('dev', {}, false);
  expect(alarmsOf(m.template)).toHaveLength(18);
  expect(alarmProblems(m.template, 'us-east-1')).toEqual([]);
  expect(JSON.stringify(m.template.toJSON())).not.toContain('AWS/WAFV2');
});

describe('thresholds', () => {
  test('a threshold prop wins over the preset, the others stay the preset\'s', () => {
    const m = monitored('prod', { thresholds: { loadBalancer5xxPercent: 7, databaseFreeableMemoryMiB: 512 } });
    expect(alarmById(m.template, 'PlatformMonitoringWeb5xxRateAlarm').Threshold).toBe(7);
    expect(alarmById(m.template, 'PlatformMonitoringDatabaseFreeableMemoryAlarm').Threshold).toBe(512 * 1024 ** 2);
    expect(alarmById(m.template, 'PlatformMonitoringWebP99LatencyAlarm').Threshold).toBe(PRESET_ALARM_THRESHOLDS.prod.p99LatencySeconds);
  });

  test('a custom preset sets thresholds; a field it leaves out takes the library default', () => {
    const preset = Preset.custom({ ...Preset.prod().values, name: 'perf', alarmThresholds: { fleetCpuPercent: 95 } });
    const m = monitored(preset);
    expect(alarmById(m.template, 'PlatformMonitoringWebCpuAlarm').Threshold).toBe(95);
    expect(alarmById(m.template, 'PlatformMonitoringWeb5xxRateAlarm').Threshold).toBe(PRESET_ALARM_THRESHOLDS.staging.loadBalancer5xxPercent);
  });

  test.each([
    [{ loadBalancer5xxPercent: 0 }, /thresholds.loadBalancer5xxPercent \(0\) must be a number from 0.01 to 100 in Stack\/Platform\/Monitoring/],
    [{ fleetCpuPercent: 101 }, /thresholds.fleetCpuPercent \(101\) must be a number from 1 to 100/],
    [{ databaseConnections: 10.5 }, /thresholds.databaseConnections \(10.5\) must be an integer/],
    [{ wafBlockedRequests: NaN }, /thresholds.wafBlockedRequests \(NaN\)/],
    [{ cpu: 5 } as any, /thresholds.cpu \(5\) is not an AlarmThresholds field/],
  ])('invalid %p is refused', (thresholds, message) => {
    expect(() => monitored('dev', { thresholds })).toThrow(message);
  });

  test('an invalid preset threshold names the preset field', () => {
    const preset = Preset.custom({ ...Preset.dev().values, alarmThresholds: { p99LatencySeconds: -1 } });
    expect(() => monitored(preset)).toThrow(/preset.values.alarmThresholds.p99LatencySeconds \(-1\)/);
  });
});

describe('notifications', () => {
  test('e-mail addresses and any SNS subscription subscribe to the topic', () => {
    const m = monitored('dev', {
      alarmEmails: ['ops@example.com', 'on-call+web@team.example.org'],
      subscriptions: [new subscriptions.UrlSubscription('https://hooks.example.com/alarms')],
    });
    const subs = Object.values(m.template.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
    const topic = Object.keys(m.template.findResources('AWS::SNS::Topic'))[0];
    expect(subs.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual([
      ['email', 'on-call+web@team.example.org'], ['email', 'ops@example.com'], ['https', 'https://hooks.example.com/alarms'],
    ]);
    expect(subs.every((s) => refOf(s.TopicArn) === topic)).toBe(true);
  });

  test.each([
    [['not-an-email'], /alarmEmails\[0\] \('not-an-email'\) must be an e-mail address/],
    [['ops@example.com', 'ops@localhost'], /alarmEmails\[1\] \('ops@localhost'\)/],
    [['a b@example.com'], /alarmEmails\[0\]/],
    [['ops@example.com', 'OPS@example.com'], /alarmEmails\[1\] \('OPS@example.com'\) is listed twice/],
  ])('e-mails %p are refused', (alarmEmails, message) => {
    expect(() => monitored('dev', { alarmEmails })).toThrow(message);
  });

  test('CloudWatch and EventBridge may publish to the encrypted topic and use its key', () => {
    const m = monitored('dev');
    const json = m.template.toJSON();
    const principals = (type: string) => Object.values(m.template.findResources(type)).flatMap((r: any) =>
      (r.Properties.PolicyDocument ?? r.Properties.KeyPolicy).Statement.filter((s: any) => s.Effect === 'Allow').map((s: any) => s.Principal?.Service));
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      expect(principals('AWS::SNS::TopicPolicy')).toContain(service);
      expect(principals('AWS::KMS::Key')).toContain(service);
    }
    // CloudWatch is limited to alarms of this account; EventBridge's KMS requests carry no source account.
    const key = Object.values(json.Resources).find((r: any) => r.Type === 'AWS::KMS::Key'
      && r.Properties.KeyPolicy.Statement.some((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com')) as any;
    const cw = key.Properties.KeyPolicy.Statement.find((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cw.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(cw.Condition.StringEquals['aws:SourceAccount']).toBe('123456789012');
  });
});

describe('events', () => {
  const m = monitored('staging');
  const rules = () => Object.values(m.template.findResources('AWS::Events::Rule')).map((r) => r.Properties);

  test('launch/terminate events of both groups (their notifications) and the database\'s events (EventBridge) go to the topic, once each', () => {
    const topic = Object.keys(m.template.findResources('AWS::SNS::Topic'))[0];
    const groups = Object.keys(m.template.findResources('AWS::AutoScaling::AutoScalingGroup')).sort();
    const db = Object.keys(m.template.findResources('AWS::RDS::DBInstance'));
    expect(rules()).toHaveLength(1);
    for (const rule of rules()) expect(rule.Targets.map((t: any) => refOf(t.Arn))).toEqual([topic]);
    expect(rules().filter((r) => r.EventPattern.source[0] === 'aws.autoscaling')).toEqual([]);
    for (const group of groups) {
      const notifications = m.template.findResources('AWS::AutoScaling::AutoScalingGroup')[group].Properties.NotificationConfigurations;
      expect(notifications.map((n: any) => refOf(n.TopicARN))).toEqual([topic]);
      expect([...notifications[0].NotificationTypes].sort()).toEqual([
        'autoscaling:EC2_INSTANCE_LAUNCH', 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
        'autoscaling:EC2_INSTANCE_TERMINATE', 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
      ]);
    }
    const rdsRule = rules().find((r) => r.EventPattern.source[0] === 'aws.rds')!;
    expect(rdsRule.EventPattern.detail.SourceType).toEqual(['DB_INSTANCE']);
    expect(rdsRule.EventPattern.detail.SourceIdentifier.map(refOf)).toEqual(db);
    expect(rdsRule.EventPattern.detail.EventCategories).toEqual(expect.arrayContaining(['failover', 'maintenance', 'low storage']));
  });

  test('events: false creates no rule', () => {
    expect(monitored('dev', { events: false }).template.findResources('AWS::Events::Rule')).toEqual({});
  });
});

describe('dashboard', () => {
  test('one dashboard with every widget row', () => {
    const m = monitored('prod', { dashboardName: 'shop-prod' });
    const dashboards = Object.values(m.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0].Properties.DashboardName).toBe('shop-prod');
    const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
    for (const title of DASHBOARD_ROWS.flat()) expect(body).toContain(JSON.stringify(title).slice(1, -1));
    for (const p of ['p50', 'p90', 'p99']) expect(body).toContain(p);
  });

  test('an invalid dashboard name is refused', () => {
    expect(() => monitored('dev', { dashboardName: 'my dashboard' })).toThrow(/dashboardName \('my dashboard'\) must be 1 to 255 letters/);
  });
});

test.each(PRESET_NAMES)('cdk-nag (%s): no finding on the monitoring, the topic or its key in any of the four packs', (name) => {
  const packs = () => [new AwsSolutionsChecks(), new NIST80053R5Checks(), new HIPAASecurityChecks(), new PCIDSS321Checks()];
  const findings = (stack: Stack) => packs().flatMap((pack) => ((pack.validateScope(stack) as any).violations ?? [])
    .flatMap((v: any) => v.violatingResources.map((r: any) => `${v.ruleName} at ${r.constructPath}`)));
  const m = monitored(name, { alarmEmails: ['ops@example.com'], subscriptions: [new subscriptions.UrlSubscription('https://hooks.example.com/a')] });
  const before = findings(m.stack);
  expect(before.filter((f) => /\/(Monitoring|NotificationTopic|NotificationKey)/.test(f))).toEqual([]);
  // The check can fail: an alarm without actions is reported.
  new cloudwatch.Alarm(m.stack, 'Bare', { metric: m.monitoring.webAlarms.cpu.metric, threshold: 1, evaluationPeriods: 1 });
  expect(findings(m.stack).filter((f) => !before.includes(f))).toEqual(expect.arrayContaining([expect.stringMatching(/CloudWatchAlarmAction at Stack\/Bare/)]));
});

test('the documented thresholds of each preset are the ones in effect', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', 'src', 'preset', 'alarm-thresholds.ts'), 'utf8');
  const documented = [...source.matchAll(/@default - from the preset \(dev ([\d.]+), staging ([\d.]+), prod ([\d.]+)\)\s*\*\/\s*readonly (\w+)\?/g)]
    .map(([, dev, staging, prod, field]) => [field, { dev: Number(dev), staging: Number(staging), prod: Number(prod) }] as const);
  expect(documented.map(([field]) => field).sort()).toEqual(Object.keys(PRESET_ALARM_THRESHOLDS.dev).sort());
  for (const [field, values] of documented) {
    for (const preset of PRESET_NAMES) {
      expect([field, preset, (PRESETS[preset]().values.alarmThresholds as any)[field]]).toEqual([field, preset, values[preset]]);
    }
  }
});
