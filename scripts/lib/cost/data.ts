/**
 * Data and keys: the RDS instance (hours, storage, enhanced monitoring, log exports), AWS Backup
 * plans, S3 buckets, KMS keys, secrets and budget actions.
 */
import { CostLine, EstimateContext, Estimator, num } from './context';
import { loadBalancerNodes, loadBalancerRequests } from './network';
import { retentionMonths } from './observability';
import { literalNumber, Resource } from './template';

const GB_PER_KB = 1e-6;
const DAYS_PER_MONTH = 30.4;

/**
 * Log exports whose log groups RDS makes outside the template: ingestion, and storage for the
 * retention a `Custom::LogRetention` gives them (else they never expire). Groups in the template
 * are priced with AWS::Logs::LogGroup.
 */
function exportLines(db: Resource, ctx: EstimateContext): CostLine[] {
  const exported: string[] = db.props.EnableCloudwatchLogsExports ?? [];
  const named = (r: Resource, log: string) => {
    const name = JSON.stringify(r.props.LogGroupName ?? '');
    return name.includes('/aws/rds/') && name.includes(`/${log}"`);
  };
  const outside = exported.filter((log) => !ctx.view.ofType('AWS::Logs::LogGroup').some((lg) => named(lg, log)));
  if (outside.length === 0) return [];
  const gb = ctx.use('rdsLogGbPerExport');
  let stored = 0;
  const kept = outside.map((log) => {
    const retention = ctx.view.ofType('Custom::LogRetention').find((r) => named(r, log))?.props.RetentionInDays;
    stored += gb * ctx.use('logCompressionRatio') * retentionMonths(retention, ctx);
    return `${log} ${typeof retention === 'number' ? `${retention} days` : 'never expires'}`;
  });
  return [
    ctx.line(db.type, `log exports (${outside.join(', ')}): ingestion`, outside.length * gb, 'cloudwatch.logsIngestion', `log groups made by RDS outside the template, rdsLogGbPerExport ${gb} GB a month each`),
    ctx.line(db.type, 'log exports: storage', stored, 'cloudwatch.logsStorage',
      `logCompressionRatio ${ctx.use('logCompressionRatio')} x retention (${kept.join(', ')}; never: neverExpireMonths ${ctx.use('neverExpireMonths')})`),
  ];
}

function databaseLines(db: Resource, ctx: EstimateContext): CostLine[] {
  const engine = String(db.props.Engine ?? '');
  if (engine !== 'mysql') throw new Error(`${db.id}: only MySQL is priced (found '${engine}')`);
  const cls = db.props.DBInstanceClass;
  const multiAz = db.props.MultiAZ === true;
  const factor = multiAz ? ctx.price('rds.multiAzFactor').usd : 1;
  const az = multiAz ? 'Multi-AZ (x rds.multiAzFactor)' : 'Single-AZ';
  const storage = literalNumber(db.props.AllocatedStorage, `${db.id} AllocatedStorage`);
  if ((db.props.StorageType ?? 'gp3') !== 'gp3' || db.props.Iops !== undefined) throw new Error(`${db.id}: only gp3 storage at its baseline IOPS is priced`);
  const lines = [
    ctx.line(db.type, `${cls} ${multiAz ? 'Multi-AZ' : 'Single-AZ'}`, ctx.hours, `rds.mysql.${cls}`, `${az}, all month`, factor, 'instance-hour'),
    ctx.line(db.type, `${storage} GB gp3 storage`, storage, 'rds.gp3', `allocated storage (MaxAllocatedStorage ${db.props.MaxAllocatedStorage ?? 'none'} not reached), ${az}; ` +
      `automated backups (${db.props.BackupRetentionPeriod ?? 1} days) within the free backup storage of 100% of it`, factor, 'GB-month'),
  ];
  const interval = db.props.MonitoringInterval ?? 0;
  if (interval > 0) {
    const gb = ((ctx.hours * 3600) / interval) * ctx.use('enhancedMonitoringKbPerSample') * GB_PER_KB;
    lines.push(ctx.line(db.type, 'enhanced monitoring (RDSOSMetrics log ingestion)', gb, 'cloudwatch.logsIngestion', `a sample every ${interval} s x enhancedMonitoringKbPerSample ${ctx.use('enhancedMonitoringKbPerSample')} KB`));
  }
  if (db.props.EnablePerformanceInsights === true) {
    const days = db.props.PerformanceInsightsRetentionPeriod ?? 7;
    if (days > 7) throw new Error(`${db.id}: Performance Insights beyond the free 7 days is not priced`);
    lines.push(ctx.line(db.type, 'Performance Insights (7 days)', 1, 'rds.gp3', 'the free tier of 7 days', 0, 'instance'));
  }
  lines.push(...exportLines(db, ctx));
  return lines;
}

export const estimateDatabases: Estimator = (dbs, ctx) => dbs.flatMap((db) => databaseLines(db, ctx));

/** Days between a backup rule's recovery points, from its `cron(m h dom month dow year)`. */
export function backupIntervalDays(expression: string): number {
  const f = /^cron\((.*)\)$/.exec(expression.trim())?.[1].split(/\s+/);
  if (!f || f.length !== 6) throw new Error(`backup schedule '${expression}' is not a cron expression: not priced`);
  if (/^\d+$/.test(f[2]) && f[3] === '*') return DAYS_PER_MONTH;
  if (/^[A-Za-z0-9]+$/.test(f[4]) && ['?', '*'].includes(f[2])) return 7;
  if (['?', '*'].includes(f[2]) && ['?', '*'].includes(f[4]) && /^\d+$/.test(f[1])) return 1;
  throw new Error(`backup schedule '${expression}' is not daily, weekly or monthly: not priced`);
}

export const estimateBackupPlans: Estimator = (plans, ctx) => plans.flatMap((plan) => {
  const databases = ctx.view.ofType('AWS::RDS::DBInstance').length;
  const data = databases * ctx.use('databaseUsedGb');
  const change = ctx.use('backupDailyChange');
  let stored = data;
  let copied = 0;
  const words: string[] = [];
  for (const rule of plan.props.BackupPlan?.BackupPlanRule ?? []) {
    const interval = backupIntervalDays(rule.ScheduleExpression);
    const keepDays = rule.Lifecycle?.DeleteAfterDays ?? ctx.use('neverExpireMonths') * DAYS_PER_MONTH;
    const points = Math.round(keepDays / interval);
    const increment = Math.min(1, change * interval) * data;
    const copies = (rule.CopyActions ?? []).length;
    stored += points * increment * (1 + copies);
    if (copies > 0) {
      stored += copies * data;
      copied += copies * (DAYS_PER_MONTH / interval) * increment;
    }
    words.push(`${rule.RuleName} every ${num(interval)} day(s) kept ${num(keepDays)} days (${points} points${copies > 0 ? `, copied to ${copies} other region(s)` : ''})`);
  }
  const lines = [ctx.line(plan.type, 'RDS snapshot storage', stored, 'backup.rdsSnapshot',
    `${databases} database(s) of databaseUsedGb ${ctx.use('databaseUsedGb')} GB: one full copy plus, per recovery point, backupDailyChange ${change} of it per day since the last point; ${words.join('; ')}`)];
  if (copied > 0) lines.push(ctx.line(plan.type, 'cross-region copy transfer', copied, 'backup.crossRegionTransfer', 'the increments copied each month'));
  return lines;
});

export const estimateBuckets: Estimator = (buckets, ctx) => buckets.flatMap((bucket) => {
  const lbs = ctx.view.ofType('AWS::ElasticLoadBalancingV2::LoadBalancer').filter((lb) =>
    (lb.props.LoadBalancerAttributes ?? []).some((a: any) => a.Key === 'access_logs.s3.bucket' && ctx.view.target(a.Value)?.id === bucket.id));
  const expirations = (bucket.props.LifecycleConfiguration?.Rules ?? []).filter((r: any) => r.Status === 'Enabled' && typeof r.ExpirationInDays === 'number').map((r: any) => r.ExpirationInDays);
  const keepMonths = expirations.length > 0 ? Math.min(...expirations) / DAYS_PER_MONTH : retentionMonths(undefined, ctx);
  if (lbs.length === 0) {
    return [ctx.line(bucket.type, 'bucket storage', ctx.use('otherBucketGb'), 's3.standard', `otherBucketGb ${ctx.use('otherBucketGb')}`)];
  }
  const monthlyGb = lbs.reduce((s, lb) => s + loadBalancerRequests(lb, ctx), 0) * ctx.use('accessLogKbPerRequest') * GB_PER_KB;
  const puts = lbs.reduce((s, lb) => s + loadBalancerNodes(lb), 0) * ctx.use('accessLogPutsPerNodeHour') * ctx.hours;
  return [
    ctx.line(bucket.type, 'access logs: storage', monthlyGb * keepMonths, 's3.standard', `${lbs.length} load balancer(s): their requests x accessLogKbPerRequest ${ctx.use('accessLogKbPerRequest')} KB = ${num(monthlyGb)} GB a month, kept ${num(keepMonths)} months`),
    ctx.line(bucket.type, 'access logs: PUT requests', puts / 1000, 's3.put1k', `accessLogPutsPerNodeHour ${ctx.use('accessLogPutsPerNodeHour')} per node (AZ) per hour`, 1, '1,000 requests'),
  ];
});

export const estimateKeys: Estimator = (keys, ctx) => [
  ctx.line(keys[0].type, 'customer managed keys', keys.length, 'kms.key', 'all month; each automatic rotation adds $1 a month for the first two rotations (none in the first year)'),
  ctx.line(keys[0].type, 'requests', (keys.length * ctx.use('kmsRequestsPerKey')) / 1e4, 'kms.requests10k', `kmsRequestsPerKey ${num(ctx.use('kmsRequestsPerKey'))} per key; the account's 20,000 free requests not applied`, 1, '10,000 requests'),
];

export const estimateSecrets: Estimator = (secrets, ctx) => [
  ctx.line(secrets[0].type, 'secrets', secrets.length, 'secretsmanager.secret', 'all month'),
  ctx.line(secrets[0].type, 'API calls', (secrets.length * ctx.use('secretsCallsPerSecret')) / 1e4, 'secretsmanager.calls10k', `secretsCallsPerSecret ${num(ctx.use('secretsCallsPerSecret'))} per secret`, 1, '10,000 calls'),
];

export const estimateBudgetActions: Estimator = (actions, ctx) => [
  ctx.line(actions[0].type, 'action-enabled budgets', new Set(actions.map((a) => JSON.stringify(a.props.BudgetName))).size * (ctx.hours / 24), 'budgets.actionBudgetDay', "every day of the month; the account's two free action-enabled budgets not applied", 1, 'budget-day'),
];

export const estimateParameters: Estimator = (parameters, ctx) => {
  const advanced = parameters.filter((p) => p.props.Tier === 'Advanced' || p.props.Tier === 'Intelligent-Tiering').length;
  const words = `${parameters.length - advanced} standard (free), ${advanced} advanced${advanced > 0 ? ' (intelligent tiering counted as advanced)' : ''}`;
  return [ctx.line(parameters[0].type, 'advanced parameters', advanced, 'ssm.advancedParameter', words)];
};
