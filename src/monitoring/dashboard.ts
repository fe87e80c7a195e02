import { CfnResource, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import * as metrics from './metrics';
import { AppTier } from '../app/app-tier';
import { DataTier } from '../data/data-tier';
import { WebTier } from '../web/web-tier';

/** The dashboard's widget titles, row by row (listed in the README). */
export const DASHBOARD_ROWS = [
  ['Alarms'],
  ['Requests', 'Latency (public load balancer)', 'Errors'],
  ['Healthy hosts', 'Instances in service'],
  ['Fleet CPU %', 'Fleet memory %', 'Fleet disk %'],
  ['Database CPU %', 'Database connections', 'Database free storage (bytes)', 'Database freeable memory (bytes)'],
  ['WAF requests'],
];

const W = 24;

function graph(title: string, left: cloudwatch.IMetric[], width: number, leftYAxis?: cloudwatch.YAxisProps): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width, height: 6, leftYAxis });
}

const labeled = (metric: cloudwatch.Metric, label: string) => metric.with({ label });

/** One dashboard for the platform: traffic, errors, capacity, fleets, database and WAF. */
export function createDashboard(
  scope: Construct, web: WebTier, app: AppTier, data: DataTier, alarms: cloudwatch.IAlarm[], dashboardName?: string,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName,
    defaultInterval: Duration.hours(3),
  });
  // CloudFormation accepts Tags on dashboards (the platform's tags land there), but the resource
  // schema cfn-lint ships with predates them: E3002 would reject the property on this resource only.
  (dashboard.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['E3002'] } });
  const [alarmRow, trafficRow, capacityRow, fleetRow, databaseRow, wafRow] = DASHBOARD_ROWS;
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: alarmRow[0], alarms, width: W, height: 4 }));
  dashboard.addWidgets(...trafficWidgets(trafficRow, web, app));
  dashboard.addWidgets(...capacityWidgets(capacityRow, web, app));
  dashboard.addWidgets(...fleetWidgets(fleetRow, web, app));
  dashboard.addWidgets(...databaseWidgets(databaseRow, data));
  const acls = [['web', web.webAcl], ['app', app.webAcl]] as const;
  const wafMetrics = acls.flatMap(([name, acl]) => (acl ? [
    labeled(metrics.wafMetric(acl, 'AllowedRequests'), `${name} allowed`),
    labeled(metrics.wafMetric(acl, 'BlockedRequests'), `${name} blocked`),
  ] : []));
  if (wafMetrics.length > 0) dashboard.addWidgets(graph(wafRow[0], wafMetrics, W));
  return dashboard;
}

function trafficWidgets(titles: string[], web: WebTier, app: AppTier): cloudwatch.IWidget[] {
  const w = metrics.loadBalancerMetrics(web.loadBalancer, Duration.minutes(1));
  const a = metrics.loadBalancerMetrics(app.loadBalancer, Duration.minutes(1));
  return [
    graph(titles[0], [labeled(w.requests, 'public'), labeled(a.requests, 'internal')], 8),
    graph(titles[1], [50, 90, 99].map((p) => labeled(w.latency(p), `p${p}`)).concat(labeled(a.latency(99), 'internal p99')), 8,
      { label: 'seconds', showUnits: false }),
    graph(titles[2], [
      labeled(w.elb4xx, 'public ELB 4xx'), labeled(w.elb5xx, 'public ELB 5xx'),
      labeled(w.target4xx, 'web 4xx'), labeled(w.target5xx, 'web 5xx'), labeled(a.target5xx, 'app 5xx'),
    ], 8),
  ];
}

function capacityWidgets(titles: string[], web: WebTier, app: AppTier): cloudwatch.IWidget[] {
  const tiers = [['web', web], ['app', app]] as const;
  return [
    graph(titles[0], tiers.flatMap(([name, tier]) => {
      const m = metrics.targetGroupMetrics(tier.targetGroup);
      return [labeled(m.healthy, `${name} healthy`), labeled(m.unhealthy, `${name} unhealthy`)];
    }), 12),
    graph(titles[1], tiers.flatMap(([name, tier]) => [
      labeled(metrics.groupMetric(tier.autoScalingGroup, 'GroupInServiceInstances', cloudwatch.Stats.MINIMUM), `${name} in service`),
      labeled(metrics.groupMetric(tier.autoScalingGroup, 'GroupMinSize', cloudwatch.Stats.MAXIMUM), `${name} minimum`),
    ]), 12),
  ];
}

function fleetWidgets(titles: string[], web: WebTier, app: AppTier): cloudwatch.IWidget[] {
  const w = metrics.fleetMetrics(web.autoScalingGroup);
  const a = metrics.fleetMetrics(app.autoScalingGroup);
  const percent = { min: 0, max: 100, showUnits: false };
  return [
    graph(titles[0], [labeled(w.cpu, 'web'), labeled(a.cpu, 'app')], 8, percent),
    graph(titles[1], [labeled(w.memory, 'web'), labeled(a.memory, 'app')], 8, percent),
    graph(titles[2], [labeled(w.disk, 'web'), labeled(a.disk, 'app')], 8, percent),
  ];
}

function databaseWidgets(titles: string[], data: DataTier): cloudwatch.IWidget[] {
  return [
    graph(titles[0], [data.metricCpuUtilization()], 6),
    graph(titles[1], [data.metricDatabaseConnections()], 6),
    graph(titles[2], [data.metricFreeStorageSpace()], 6),
    graph(titles[3], [data.database.metricFreeableMemory({ statistic: cloudwatch.Stats.MINIMUM })], 6),
  ];
}
