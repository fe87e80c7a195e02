import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FREE_TYPES, PRICED_TYPES } from '../scripts/lib/cost/classify';
import { backupIntervalDays } from '../scripts/lib/cost/data';
import { estimate, renderCostTable, renderEstimate, Estimate } from '../scripts/lib/cost/estimate';
import { exampleEstimates, exampleTemplate, renderExampleCostTable } from '../scripts/lib/cost/examples';
import { onDemandCount } from '../scripts/lib/cost/fleet';
import { alarmMetrics } from '../scripts/lib/cost/observability';
import { loadPrices, PriceTable, Usage, usageOf } from '../scripts/lib/cost/price-table';
import { averageOf, cronField, weeklyCron, weeklyProfile } from '../scripts/lib/cost/schedule';
import { CfnTemplate } from '../scripts/lib/cost/template';
import { EXAMPLES } from '../scripts/lib/examples';
import { README_BLOCKS } from '../scripts/lib/readme-blocks';
import { Preset } from '../src';

// --- a small price table and usage with round numbers, so every expected value is worked out by hand ---
const src = { source: 'https://aws.amazon.com/pricing/', taken: '2026-12-02' };
const p = (usd: number, per: string) => ({ usd, per, ...src });
const TABLE: PriceTable = {
  region: 'us-east-1',
  currency: 'USD',
  hoursPerMonth: 730,
  note: 'test prices',
  prices: {
    'ec2.t3.micro': p(0.01, 'instance-hour'),
    'ec2.spotShareOfOnDemand': p(0.3, 'fraction'),
    'ec2.publicIpv4': p(0.005, 'address-hour'),
    'ec2.dataTransferOut': p(0.09, 'GB'),
    'ebs.gp3': p(0.08, 'GB-month'),
    'rds.mysql.db.t4g.micro': p(0.016, 'instance-hour'),
    'rds.multiAzFactor': p(2, 'multiplier'),
    'rds.gp3': p(0.115, 'GB-month'),
    'elb.albHour': p(0.0225, 'hour'),
    'elb.lcuHour': p(0.008, 'LCU-hour'),
    'vpc.natGatewayHour': p(0.045, 'hour'),
    'vpc.natGatewayGb': p(0.045, 'GB'),
    'kms.key': p(1, 'key-month'),
    'kms.requests10k': p(0.03, '10k requests'),
    'cloudwatch.metric': p(0.3, 'metric-month'),
    'cloudwatch.alarm': p(0.1, 'alarm-month'),
    'cloudwatch.alarmHighResolution': p(0.3, 'alarm-month'),
    'cloudwatch.logsIngestion': p(0.5, 'GB'),
    'cloudwatch.logsStorage': p(0.03, 'GB-month'),
  },
  usage: {},
};
const u = (value: number) => ({ value, means: 'test' });
const USAGE: Usage = {
  requestsPerMonth: u(3_600_000),
  responseKb: u(50),
  requestKb: u(0),
  newConnectionShare: u(0.5),
  internalShare: u(1),
  detailedMonitoringMetrics: u(7),
  agentMetricsPerInstance: u(2),
  natGb: u(100),
  kmsRequestsPerKey: u(10_000),
  enhancedMonitoringKbPerSample: u(8),
  rdsLogGbPerExport: u(1),
  logCompressionRatio: u(0.1),
  neverExpireMonths: u(12),
  flowLogGb: u(10),
  instanceLogGb: u(1),
  wafLogKbPerRequest: u(1),
  lambdaLogGb: u(0.01),
};

const launchTemplate = (monitoring: boolean) => ({
  Type: 'AWS::EC2::LaunchTemplate',
  Properties: { LaunchTemplateData: { InstanceType: 't3.micro', Monitoring: { Enabled: monitoring }, BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 10, VolumeType: 'gp3' } }] } },
});
const group = (props: object) => ({ Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MaxSize: '4', LaunchTemplate: { LaunchTemplateId: { Ref: 'Lt' } }, ...props } });
const run = (resources: CfnTemplate['Resources']): Estimate => estimate('test', { Resources: resources }, USAGE, TABLE);
const monthly = (e: Estimate, item: RegExp) => e.types.flatMap((t) => t.lines).filter((l) => item.test(l.item)).map((l) => l.monthlyUsd);

describe('estimator on hand-made templates (exact numbers)', () => {
  test('Auto Scaling group: MinSize all month, root volumes, detailed monitoring', () => {
    const e = run({ Lt: launchTemplate(true), Asg: group({ MinSize: '2' }) });
    expect(monthly(e, /on-demand/)[0]).toBeCloseTo(2 * 730 * 0.01, 10); // 14.60
    expect(monthly(e, /root volumes/)[0]).toBeCloseTo(2 * 10 * 0.08, 10); // 1.60
    expect(monthly(e, /detailed monitoring/)[0]).toBeCloseTo(2 * 7 * 0.3, 10); // 4.20
    expect(e.monthlyUsd).toBeCloseTo(20.4, 10);
    expect(e.savingUsd).toBe(0);
    expect(e.types.find((t) => t.type === 'AWS::EC2::LaunchTemplate')?.freeReason).toMatch(/Auto Scaling group/);
  });

  test('spot above an on-demand base: the saving is against on-demand at MinSize', () => {
    const mip = { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: { Ref: 'Lt' } } }, InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 0 } };
    const e = run({ Lt: launchTemplate(false), Asg: { Type: 'AWS::AutoScaling::AutoScalingGroup', Properties: { MinSize: '3', MaxSize: '6', MixedInstancesPolicy: mip } } });
    expect(monthly(e, /on-demand/)[0]).toBeCloseTo(730 * 0.01, 10); // 7.30
    expect(monthly(e, /spot/)[0]).toBeCloseTo(2 * 730 * 0.01 * 0.3, 10); // 4.38
    expect(e.savingUsd).toBeCloseTo(3 * 730 * 0.01 - 7.3 - 4.38, 10); // 10.22
  });

  test('scheduled actions: up 07:00 and down 20:00 on weekdays is 65 of 168 hours', () => {
    const e = run({
      Lt: launchTemplate(false),
      Asg: group({ MinSize: '2' }),
      Down: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Asg' }, Recurrence: '0 20 * * MON-FRI', MinSize: 0, DesiredCapacity: 0 } },
      Up: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Asg' }, Recurrence: '0 7 * * 1-5', MinSize: 2, DesiredCapacity: 2 } },
    });
    const hours = (2 * 65 / 168) * 730;
    expect(monthly(e, /on-demand/)[0]).toBeCloseTo(hours * 0.01, 10);
    expect(e.savingUsd).toBeCloseTo(2 * 730 * 0.01 - hours * 0.01, 10);
    expect(e.types.find((t) => t.type === 'AWS::AutoScaling::ScheduledAction')?.freeReason).toBeDefined();
  });

  test('a schedule that is not weekly is said to be not modelled, and priced at desired capacity all month', () => {
    const e = run({
      Lt: launchTemplate(false),
      Asg: group({ MinSize: '1' }),
      Monthly: { Type: 'AWS::AutoScaling::ScheduledAction', Properties: { AutoScalingGroupName: { Ref: 'Asg' }, Recurrence: '0 0 1 * *', DesiredCapacity: 0 } },
    });
    expect(monthly(e, /on-demand/)[0]).toBeCloseTo(7.3, 10);
    expect(e.types[0].lines[0].assumption).toMatch(/not modelled/);
  });

  test('internet-facing load balancer: hours, LCUs from bytes or connections, addresses per AZ, data out', () => {
    const e = run({ Lb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internet-facing', Subnets: ['a', 'b'] } } });
    // 3.6M requests x 50 KB = 180 GB: 180/730 GB an hour = 0.2466 LCU; 3.6M x 0.5 / 2,628,000 s = 0.685 conn/s / 25 = 0.0274 LCU.
    expect(monthly(e, /hours/)[0]).toBeCloseTo(730 * 0.0225, 10);
    expect(monthly(e, /LCUs/)[0]).toBeCloseTo(180 * 0.008, 10);
    expect(monthly(e, /IPv4/)[0]).toBeCloseTo(2 * 730 * 0.005, 10);
    expect(monthly(e, /data out/)[0]).toBeCloseTo(180 * 0.09, 10);
  });

  test('Multi-AZ database doubles instance and storage; enhanced monitoring and log exports are ingested logs', () => {
    const e = run({
      Db: {
        Type: 'AWS::RDS::DBInstance',
        Properties: { Engine: 'mysql', DBInstanceClass: 'db.t4g.micro', MultiAZ: true, AllocatedStorage: '20', StorageType: 'gp3', MonitoringInterval: 60, EnableCloudwatchLogsExports: ['error', 'audit'] },
      },
      Keep: { Type: 'Custom::LogRetention', Properties: { LogGroupName: { 'Fn::Join': ['', ['/aws/rds/instance/', { Ref: 'Db' }, '/error']] }, RetentionInDays: 30 } },
    });
    expect(monthly(e, /Multi-AZ/)[0]).toBeCloseTo(730 * 0.016 * 2, 10); // 23.36
    expect(monthly(e, /storage$/)[0]).toBeCloseTo(20 * 0.115 * 2, 10); // 4.60
    expect(monthly(e, /enhanced monitoring/)[0]).toBeCloseTo(43_800 * 8e-6 * 0.5, 10); // a sample a minute
    expect(monthly(e, /log exports \(error, audit\)/)[0]).toBeCloseTo(2 * 0.5, 10);
    // error kept 30 days (30/30.4 months), audit never expires (12 months), 10% of 1 GB each.
    expect(monthly(e, /log exports: storage/)[0]).toBeCloseTo((0.1 * 30 / 30.4 + 0.1 * 12) * 0.03, 10);
  });

  test('NAT gateway, its address and keys', () => {
    const e = run({
      Nat: { Type: 'AWS::EC2::NatGateway', Properties: {} },
      Ip: { Type: 'AWS::EC2::EIP', Properties: {} },
      K1: { Type: 'AWS::KMS::Key', Properties: {} },
      K2: { Type: 'AWS::KMS::Key', Properties: {} },
    });
    expect(monthly(e, /NAT gateway: hours/)[0]).toBeCloseTo(730 * 0.045, 10);
    expect(monthly(e, /NAT gateway: data/)[0]).toBeCloseTo(100 * 0.045, 10);
    expect(monthly(e, /Elastic IP/)[0]).toBeCloseTo(730 * 0.005, 10);
    expect(monthly(e, /customer managed keys/)[0]).toBe(2);
    expect(monthly(e, /^requests/)[0]).toBeCloseTo(2 * 0.03, 10);
  });

  test('log groups: ingestion by source, storage by retention', () => {
    const e = run({
      Flow: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } },
      FlowLog: { Type: 'AWS::EC2::FlowLog', Properties: { LogGroupName: { Ref: 'Flow' }, LogDestinationType: 'cloud-watch-logs' } },
      Nginx: { Type: 'AWS::Logs::LogGroup', Properties: {} },
    });
    expect(monthly(e, /flow logs/)[0]).toBeCloseTo(10 * 0.5, 10);
    expect(monthly(e, /instance logs/)[0]).toBeCloseTo(1 * 0.5, 10);
    expect(monthly(e, /^storage/)[0]).toBeCloseTo((10 * 0.1 * 7 / 30.4 + 1 * 0.1 * 12) * 0.03, 10);
  });

  test('alarms: one metric each, every queried metric of metric math, three for anomaly detection, high resolution under 60 s', () => {
    const alarm = (props: object) => ({ id: 'A', type: 'AWS::CloudWatch::Alarm', props });
    expect(alarmMetrics(alarm({ Period: 300 }))).toEqual({ metrics: 1, highResolution: false });
    expect(alarmMetrics(alarm({ Period: 10 }))).toEqual({ metrics: 1, highResolution: true });
    const math = [{ Id: 'a', MetricStat: { Period: 60 } }, { Id: 'b', MetricStat: { Period: 60 } }, { Id: 'e', Expression: 'a/b' }];
    expect(alarmMetrics(alarm({ Metrics: math }))).toEqual({ metrics: 2, highResolution: false });
    const band = [{ Id: 'm', MetricStat: { Period: 300 } }, { Id: 'ad', Expression: 'ANOMALY_DETECTION_BAND(m, 2)' }];
    expect(alarmMetrics(alarm({ Metrics: band }))).toEqual({ metrics: 3, highResolution: false });
    const e = run({ A: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 60 } }, B: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10 } } });
    expect(e.monthlyUsd).toBeCloseTo(0.4, 10);
  });

  test('CloudFront in front: data out and requests are CloudFront\'s, the load balancer sends none to the internet; web ACLs see their own requests', () => {
    const table: PriceTable = { ...TABLE, prices: { ...TABLE.prices, 'cloudfront.https10k': p(0.01, '10,000 requests'), 'cloudfront.dataTransferOut': p(0.085, 'GB'), 'waf.webAcl': p(5, 'month'), 'waf.rule': p(1, 'rule-month'), 'waf.requestsMillion': p(0.6, 'million') } };
    const e = estimate('test', {
      Resources: {
        Cdn: { Type: 'AWS::CloudFront::Distribution', Properties: {} },
        Lb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internet-facing', Subnets: ['a', 'b'] } },
        Internal: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internal', Subnets: ['a', 'b'] } },
        Edge: { Type: 'AWS::WAFv2::WebACL', Properties: { Scope: 'CLOUDFRONT', Rules: [{}, {}] } },
        Api: { Type: 'AWS::WAFv2::WebACL', Properties: { Scope: 'REGIONAL', Rules: [{}] } },
        ApiAssoc: { Type: 'AWS::WAFv2::WebACLAssociation', Properties: { WebACLArn: { 'Fn::GetAtt': ['Api', 'Arn'] }, ResourceArn: { Ref: 'Internal' } } },
      },
    }, { ...USAGE, internalShare: u(0.5) }, table);
    expect(monthly(e, /data out/)).toEqual([expect.closeTo(180 * 0.085, 10)]);
    expect(monthly(e, /CloudFront: HTTPS requests/)[0]).toBeCloseTo(360 * 0.01, 10);
    expect(monthly(e, /web ACL: requests/)).toEqual([expect.closeTo(3.6 * 0.6, 10), expect.closeTo(1.8 * 0.6, 10)]);
    expect(monthly(e, /web ACL: rules/)).toEqual([2, 1]);
  });

  test('backup plan: one full copy plus an increment per recovery point, copies doubled and transferred', () => {
    const table: PriceTable = { ...TABLE, prices: { ...TABLE.prices, 'backup.rdsSnapshot': p(0.1, 'GB-month'), 'backup.crossRegionTransfer': p(0.02, 'GB') } };
    const rule = (name: string, cron: string, days: number, copy = false) => ({
      RuleName: name, ScheduleExpression: cron, Lifecycle: { DeleteAfterDays: days }, ...(copy ? { CopyActions: [{}] } : {}),
    });
    const e = estimate('test', {
      Resources: {
        Db: { Type: 'AWS::RDS::DBInstance', Properties: { Engine: 'mysql', DBInstanceClass: 'db.t4g.micro', AllocatedStorage: '20' } },
        Plan: { Type: 'AWS::Backup::BackupPlan', Properties: { BackupPlan: { BackupPlanRule: [rule('Daily', 'cron(0 5 * * ? *)', 7), rule('Weekly', 'cron(0 5 ? * SUN *)', 28, true)] } } },
      },
    }, { ...USAGE, databaseUsedGb: u(100), backupDailyChange: u(0.01) }, table);
    // 100 GB full + 7 daily points x 1 GB + 4 weekly points x 7 GB x 2 (copied) + 100 GB full copy in the other region.
    expect(monthly(e, /snapshot storage/)[0]).toBeCloseTo((100 + 7 + 56 + 100) * 0.1, 10);
    // 30.4/7 weekly copies a month x 7 GB.
    expect(monthly(e, /cross-region/)[0]).toBeCloseTo((30.4 / 7) * 7 * 0.02, 10);
  });

  test('a type neither priced nor free is reported, and the report names it', () => {
    const e = run({ X: { Type: 'AWS::Some::NewThing', Properties: {} }, R: { Type: 'AWS::IAM::Role', Properties: {} } });
    expect(e.unknownTypes).toEqual(['AWS::Some::NewThing']);
    expect(renderEstimate(e, TABLE)).toContain('NOT PRICED (add to scripts/lib/cost/classify.ts): AWS::Some::NewThing');
  });

  test('a missing price is an error naming its key', () => {
    const lt = launchTemplate(false);
    lt.Properties.LaunchTemplateData.InstanceType = 'x9.huge';
    expect(() => run({ Lt: lt, Asg: group({ MinSize: '1' }) })).toThrow(/no price 'ec2.x9.huge' in scripts\/lib\/cost\/prices.json/);
  });
});

describe('schedules and capacities', () => {
  test('cron fields', () => {
    expect([...cronField('MON-FRI', 0, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'])!]).toEqual([1, 2, 3, 4, 5]);
    expect([...cronField('0/15', 0, 59)!]).toEqual([0, 15, 30, 45]);
    expect([...cronField('1,3,5', 0, 23)!]).toEqual([1, 3, 5]);
    expect(cronField('60', 0, 59)).toBeUndefined();
    expect(cronField('L', 1, 31)).toBeUndefined();
    expect(weeklyCron('0 8 1 * *')).toBeUndefined();
    expect(weeklyCron('0 8 * * 0')!(8 * 60)).toBe(true); // Sunday 08:00
    expect(weeklyCron('0 8 * * 7')!(8 * 60)).toBe(true); // 7 is Sunday too
  });

  test('a weekly profile replays actions in order and clamps to min and max', () => {
    const profile = weeklyProfile({ minSize: 1, maxSize: 3, desiredCapacity: 1 }, [{ recurrence: '0 0 * * SAT', desiredCapacity: 5 }, { recurrence: '0 0 * * SUN', desiredCapacity: 0 }])!;
    // Saturday at the max (3), the other six days at the min (1).
    expect(averageOf(profile)).toBeCloseTo((3 + 6) / 7, 10);
  });

  test('on-demand count rounds in favour of on-demand', () => {
    expect(onDemandCount(3, { base: 0, percent: 0 })).toBe(0);
    expect(onDemandCount(3, { base: 1, percent: 50 })).toBe(2);
    expect(onDemandCount(1, { base: 2, percent: 0 })).toBe(1);
    expect(onDemandCount(4, { base: Infinity, percent: 100 })).toBe(4);
  });

  test('backup intervals from cron', () => {
    expect(backupIntervalDays('cron(0 5 * * ? *)')).toBe(1);
    expect(backupIntervalDays('cron(0 5 ? * SUN *)')).toBe(7);
    expect(backupIntervalDays('cron(0 5 1 * ? *)')).toBe(30.4);
    expect(() => backupIntervalDays('rate(1 day)')).toThrow(/not a cron expression/);
  });
});

describe('the committed price table', () => {
  const table = loadPrices();

  test('every price names its source page and date; every preset has its usage', () => {
    for (const [key, price] of Object.entries(table.prices)) {
      expect([key, price.source]).toEqual([key, expect.stringMatching(/^https:\/\/aws\.amazon\.com\//)]);
      expect([key, price.taken]).toEqual([key, '2026-12-02']);
    }
    for (const name of EXAMPLES) expect(Object.keys(usageOf(table, name)).length).toBeGreaterThan(10);
  });

  test('a price without a source is rejected', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prices-'));
    try {
      const file = path.join(dir, 'prices.json');
      fs.writeFileSync(file, JSON.stringify({ ...table, prices: { 'x.y': { usd: 1, per: 'hour', taken: '2026-12-02' } } }));
      expect(() => loadPrices(file)).toThrow(/price 'x.y' needs .*source/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a type is priced or free, never both', () => {
    expect(Object.keys(PRICED_TYPES).filter((t) => t in FREE_TYPES)).toEqual([]);
  });
});

describe('the examples', () => {
  const estimates = exampleEstimates();

  test.each(EXAMPLES.map((name, i) => [name, i] as const))('%s: every resource type is priced or listed as free', (name, i) => {
    const counts = new Map<string, number>();
    for (const r of Object.values(exampleTemplate(name).Resources)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
    expect(estimates[i].unknownTypes).toEqual([]);
    expect(new Map(estimates[i].types.map((t) => [t.type, t.count]))).toEqual(counts);
    expect(estimates[i].monthlyUsd).toBeGreaterThan(0);
  });

  test('prod costs more than staging, staging more than dev', () => {
    const [dev, staging, prod] = estimates.map((e) => e.monthlyUsd);
    expect(staging).toBeGreaterThan(dev);
    expect(prod).toBeGreaterThan(staging);
  });

  test('each preset\'s budget is above its estimate, so a budget alert means spending beyond the plan', () => {
    EXAMPLES.forEach((name, i) => {
      const budget = Preset[name]().values.monthlyBudgetUsd!;
      expect([name, estimates[i].monthlyUsd < budget * 0.8]).toEqual([name, true]);
    });
  });

  test('the README cost table is a generated block, rendered from these estimates', () => {
    const block = README_BLOCKS.find((b) => b.name === 'cost-table');
    expect(block?.render).toBe(renderExampleCostTable);
    const table = renderCostTable(estimates);
    for (const e of estimates) expect(table).toContain(`**$${e.monthlyUsd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}**`);
  });
});
