import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { DatabaseAlarms, FleetAlarms } from './alarm-groups';
import * as metrics from './metrics';
import { AppTier } from '../app/app-tier';
import { DataTier } from '../data/data-tier';
import { ResolvedThresholds } from '../preset/alarm-threshold-values';
import { WebTier } from '../web/web-tier';

/** Every alarm of the platform, grouped. */
export interface CreatedAlarms {
  readonly errorRate: cloudwatch.Alarm;
  readonly latency: cloudwatch.Alarm;
  readonly web: FleetAlarms;
  readonly app: FleetAlarms;
  readonly database: DatabaseAlarms;
}

const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
const LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
const MISSING = cloudwatch.TreatMissingData.MISSING;
const NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING;

interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly periods: number;
  readonly missing: cloudwatch.TreatMissingData;
  readonly description: string;
}

function alarm(scope: Construct, id: string, spec: AlarmSpec): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: spec.metric,
    threshold: spec.threshold,
    comparisonOperator: spec.comparison,
    evaluationPeriods: spec.periods,
    datapointsToAlarm: spec.periods,
    treatMissingData: spec.missing,
    alarmDescription: spec.description,
  });
}

/**
 * Creates every alarm: public load balancer 5xx rate and p99 latency, both fleets, the database.
 * Missing data is deliberate: no traffic is no error (not breaching); no usage data is no overload
 * (not breaching); capacity and database alarms keep their state (missing).
 */
export function createAlarms(scope: Construct, web: WebTier, app: AppTier, data: DataTier, t: ResolvedThresholds): CreatedAlarms {
  const errorRate = alarm(scope, 'Web5xxRateAlarm', {
    metric: metrics.errorRate(web.loadBalancer),
    threshold: t.loadBalancer5xxPercent,
    comparison: GT,
    periods: 3,
    missing: NOT_BREACHING,
    description: `5xx responses of the public load balancer above ${t.loadBalancer5xxPercent}% of requests for 15 minutes`,
  });
  const latency = alarm(scope, 'WebP99LatencyAlarm', {
    metric: metrics.loadBalancerMetrics(web.loadBalancer).latency(99),
    threshold: t.p99LatencySeconds,
    comparison: GT,
    periods: 3,
    missing: NOT_BREACHING,
    description: `p99 response time of the web targets above ${t.p99LatencySeconds} s for 15 minutes`,
  });
  return {
    errorRate,
    latency,
    web: createFleetAlarms(scope, 'Web', web, t),
    app: createFleetAlarms(scope, 'App', app, t),
    database: createDatabaseAlarms(scope, data, t),
  };
}

interface Tier {
  readonly autoScalingGroup: WebTier['autoScalingGroup'];
  readonly targetGroup: WebTier['targetGroup'];
  readonly webAcl?: wafv2.CfnWebACL;
}

function createFleetAlarms(scope: Construct, prefix: 'Web' | 'App', tier: Tier, t: ResolvedThresholds): FleetAlarms {
  const name = prefix.toLowerCase();
  const group = tier.autoScalingGroup;
  const usage = metrics.fleetMetrics(group);
  const usageAlarm = (id: string, metric: cloudwatch.IMetric, threshold: number, periods: number, what: string) => alarm(scope, `${prefix}${id}Alarm`, {
    metric,
    threshold,
    comparison: GT,
    periods,
    missing: NOT_BREACHING,
    description: `${what} of the ${name} fleet above ${threshold}% for ${periods * 5} minutes`,
  });
  return {
    unhealthyHosts: alarm(scope, `${prefix}UnhealthyHostsAlarm`, {
      metric: metrics.targetGroupMetrics(tier.targetGroup).unhealthy,
      threshold: 0,
      comparison: GT,
      periods: 5,
      missing: NOT_BREACHING,
      description: `A ${name} target has failed its load balancer health check for 5 minutes`,
    }),
    healthyHostsBelowMinimum: alarm(scope, `${prefix}HealthyHostsAlarm`, {
      metric: metrics.healthyBelowMinimum(tier.targetGroup, group),
      threshold: 0,
      comparison: LT,
      periods: 5,
      missing: MISSING,
      description: `Fewer healthy ${name} targets than the Auto Scaling group's minimum size for 5 minutes`,
    }),
    inServiceBelowMinimum: alarm(scope, `${prefix}InServiceAlarm`, {
      metric: metrics.inServiceBelowMinimum(group),
      threshold: 0,
      comparison: LT,
      periods: 10,
      missing: MISSING,
      description: `Fewer ${name} instances in service than the Auto Scaling group's minimum size for 10 minutes`,
    }),
    cpu: usageAlarm('Cpu', usage.cpu, t.fleetCpuPercent, 3, 'Average CPU'),
    memory: usageAlarm('Memory', usage.memory, t.fleetMemoryPercent, 3, 'Average memory used'),
    disk: usageAlarm('Disk', usage.disk, t.fleetDiskPercent, 2, 'The fullest disk'),
    wafBlockedRequests: tier.webAcl && alarm(scope, `${prefix}WafBlockedAlarm`, {
      metric: metrics.wafMetric(tier.webAcl, 'BlockedRequests'),
      threshold: t.wafBlockedRequests,
      comparison: GT,
      periods: 1,
      missing: NOT_BREACHING,
      description: `More than ${t.wafBlockedRequests} requests to the ${name} load balancer blocked by WAF in 5 minutes`,
    }),
  };
}

function createDatabaseAlarms(scope: Construct, data: DataTier, t: ResolvedThresholds): DatabaseAlarms {
  return {
    cpu: alarm(scope, 'DatabaseCpuAlarm', {
      metric: data.metricCpuUtilization(),
      threshold: t.databaseCpuPercent,
      comparison: GT,
      periods: 3,
      missing: MISSING,
      description: `Average CPU of the database above ${t.databaseCpuPercent}% for 15 minutes`,
    }),
    freeStorage: alarm(scope, 'DatabaseFreeStorageAlarm', {
      metric: data.metricFreeStorageSpace(),
      threshold: t.databaseFreeStorageGiB * 1024 ** 3,
      comparison: LT,
      periods: 2,
      missing: MISSING,
      description: `Free storage of the database below ${t.databaseFreeStorageGiB} GiB for 10 minutes`,
    }),
    freeableMemory: alarm(scope, 'DatabaseFreeableMemoryAlarm', {
      metric: data.database.metricFreeableMemory({ statistic: cloudwatch.Stats.MINIMUM }),
      threshold: t.databaseFreeableMemoryMiB * 1024 ** 2,
      comparison: LT,
      periods: 3,
      missing: MISSING,
      description: `Freeable memory of the database below ${t.databaseFreeableMemoryMiB} MiB for 15 minutes`,
    }),
    connections: alarm(scope, 'DatabaseConnectionsAlarm', {
      metric: data.metricDatabaseConnections(),
      threshold: t.databaseConnections,
      comparison: GT,
      periods: 3,
      missing: MISSING,
      description: `More than ${t.databaseConnections} open database connections for 15 minutes`,
    }),
  };
}

/** The alarms of a `CreatedAlarms` as one list, in a stable order. */
export function allAlarms(a: CreatedAlarms): cloudwatch.Alarm[] {
  const fleet = (f: FleetAlarms) => [f.unhealthyHosts, f.healthyHostsBelowMinimum, f.inServiceBelowMinimum, f.cpu, f.memory, f.disk,
    ...(f.wafBlockedRequests ? [f.wafBlockedRequests] : [])];
  const d = a.database;
  return [a.errorRate, a.latency, ...fleet(a.web), ...fleet(a.app), d.cpu, d.freeStorage, d.freeableMemory, d.connections];
}
