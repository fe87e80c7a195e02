/**
 * Observability and protection: log groups (ingestion by what writes to them, storage by their
 * retention), flow logs, web ACLs, alarms and dashboards.
 */
import { CostLine, EstimateContext, Estimator, num } from './context';
import { webAclRequests } from './network';
import { Resource } from './template';

const GB_PER_KB = 1e-6;
const DAYS_PER_MONTH = 30.4;

/** What writes into a log group, and how many GB a month. */
export function logGroupSource(lg: Resource, ctx: EstimateContext): { source: string; gb: number; words: string } {
  const name = JSON.stringify(lg.props.LogGroupName ?? '');
  const refers = (v: unknown) => ctx.view.target(v)?.id === lg.id;
  if (ctx.view.ofType('AWS::EC2::FlowLog').some((f) => refers(f.props.LogGroupName) || refers(f.props.LogDestination))) {
    return { source: 'VPC flow logs', gb: ctx.use('flowLogGb'), words: `flowLogGb ${ctx.use('flowLogGb')} GB` };
  }
  const logging = ctx.view.ofType('AWS::WAFv2::LoggingConfiguration').find((c) => typeof lg.props.LogGroupName === 'string' && JSON.stringify(c.props.LogDestinationConfigs).includes(lg.props.LogGroupName));
  if (logging || name.includes('aws-waf-logs-')) {
    const acl = logging ? ctx.view.target(logging.props.ResourceArn) : undefined;
    const requests = acl ? webAclRequests(acl, ctx) : ctx.use('requestsPerMonth');
    return { source: 'WAF logs', gb: requests * ctx.use('wafLogKbPerRequest') * GB_PER_KB, words: `${num(requests)} requests x wafLogKbPerRequest ${ctx.use('wafLogKbPerRequest')} KB` };
  }
  if (ctx.view.ofType('AWS::Lambda::Function').some((f) => refers(f.props.LoggingConfig?.LogGroup)) || name.includes('/aws/lambda/')) {
    return { source: 'function logs', gb: ctx.use('lambdaLogGb'), words: `lambdaLogGb ${ctx.use('lambdaLogGb')} GB` };
  }
  if (name.includes('/aws/rds/')) {
    return { source: 'RDS log exports', gb: ctx.use('rdsLogGbPerExport'), words: `rdsLogGbPerExport ${ctx.use('rdsLogGbPerExport')} GB` };
  }
  return { source: 'instance logs', gb: ctx.use('instanceLogGb'), words: `instanceLogGb ${ctx.use('instanceLogGb')} GB` };
}

/** Months of data a log group keeps: its retention, or neverExpireMonths when it never expires. */
export function retentionMonths(retentionDays: unknown, ctx: EstimateContext): number {
  return typeof retentionDays === 'number' ? retentionDays / DAYS_PER_MONTH : ctx.use('neverExpireMonths');
}

export const estimateLogGroups: Estimator = (groups, ctx) => {
  const type = groups[0].type;
  const bySource = new Map<string, { count: number; gb: number; words: Set<string> }>();
  let storedGb = 0;
  for (const lg of groups) {
    const s = logGroupSource(lg, ctx);
    const entry = bySource.get(s.source) ?? { count: 0, gb: 0, words: new Set<string>() };
    bySource.set(s.source, { count: entry.count + 1, gb: entry.gb + s.gb, words: entry.words.add(s.words) });
    storedGb += s.gb * ctx.use('logCompressionRatio') * retentionMonths(lg.props.RetentionInDays, ctx);
  }
  const lines: CostLine[] = [...bySource].map(([source, e]) =>
    ctx.line(type, `ingestion: ${source}`, e.gb, 'cloudwatch.logsIngestion', `${e.count} log group(s), each a month: ${[...e.words].join('; ')}`));
  lines.push(ctx.line(type, 'storage', storedGb, 'cloudwatch.logsStorage',
    `each group's monthly GB x logCompressionRatio ${ctx.use('logCompressionRatio')} x its retention in months (never expires: neverExpireMonths ${ctx.use('neverExpireMonths')})`));
  return lines;
};

/** Flow logs to CloudWatch Logs are priced with their log group; other destinations are not modelled. */
export const estimateFlowLogs: Estimator = (flowLogs) => {
  for (const f of flowLogs) {
    if ((f.props.LogDestinationType ?? 'cloud-watch-logs') !== 'cloud-watch-logs') {
      throw new Error(`${f.id}: flow logs to ${f.props.LogDestinationType} are not priced; only CloudWatch Logs destinations are (with their log group)`);
    }
  }
  return [];
};

export const estimateWebAcls: Estimator = (acls, ctx) => acls.flatMap((acl) => {
  const scope = acl.props.Scope === 'CLOUDFRONT' ? 'CloudFront' : 'regional';
  const rules = (acl.props.Rules ?? []).length;
  const requests = webAclRequests(acl, ctx);
  return [
    ctx.line(acl.type, `${scope} web ACL`, 1, 'waf.webAcl', 'all month'),
    ctx.line(acl.type, `${scope} web ACL: rules`, rules, 'waf.rule', 'each managed rule group counts as one rule (no Bot Control or Fraud Control)'),
    ctx.line(acl.type, `${scope} web ACL: requests`, requests / 1e6, 'waf.requestsMillion', `${num(requests)} requests inspected (those of its load balancer or distribution)`, 1, 'million requests'),
  ];
});

/** Metrics an alarm bills for: one, or each metric of a metric-math alarm; anomaly detection counts three. */
export function alarmMetrics(alarm: Resource): { metrics: number; highResolution: boolean } {
  const queries: any[] = alarm.props.Metrics ?? [];
  const metrics = queries.length > 0 ? queries.filter((q) => q.MetricStat).length : 1;
  const anomaly = queries.some((q) => JSON.stringify(q.Expression ?? '').includes('ANOMALY_DETECTION_BAND'));
  const periods = [alarm.props.Period, ...queries.map((q) => q.MetricStat?.Period ?? q.Period)].filter((p) => typeof p === 'number');
  return { metrics: anomaly ? metrics * 3 : metrics, highResolution: periods.some((p) => p < 60) };
}

export const estimateAlarms: Estimator = (alarms, ctx) => {
  const counted = alarms.map(alarmMetrics);
  const standard = counted.filter((a) => !a.highResolution).reduce((s, a) => s + a.metrics, 0);
  const high = counted.filter((a) => a.highResolution).reduce((s, a) => s + a.metrics, 0);
  const lines: CostLine[] = [];
  const words = 'one per metric (metric math: each queried metric; anomaly detection: three)';
  if (standard > 0) lines.push(ctx.line(alarms[0].type, 'standard-resolution alarm metrics', standard, 'cloudwatch.alarm', `${alarms.length} alarm(s), ${words}`));
  if (high > 0) lines.push(ctx.line(alarms[0].type, 'high-resolution alarm metrics', high, 'cloudwatch.alarmHighResolution', `period under 60 seconds, ${words}`));
  return lines;
};

export const estimateCompositeAlarms: Estimator = (alarms, ctx) => [
  ctx.line(alarms[0].type, 'composite alarms', alarms.length, 'cloudwatch.compositeAlarm', 'all month'),
];

export const estimateDashboards: Estimator = (dashboards, ctx) => [
  ctx.line(dashboards[0].type, 'dashboards', dashboards.length, 'cloudwatch.dashboard', "all month; the account's 3 free dashboards not applied"),
];
