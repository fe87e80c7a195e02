/**
 * Compute: Auto Scaling groups (instance-hours from MinSize or the scheduled actions, on-demand and
 * spot split by the mixed instances policy, root volumes, detailed monitoring, agent metrics) and
 * single EC2 instances (the NAT instance).
 */
import { CostLine, EstimateContext, Estimator, num } from './context';
import { averageOf, MINUTES_PER_WEEK, ScheduledChange, weeklyProfile } from './schedule';
import { literalNumber, Resource, shortName } from './template';

const ASG = 'AWS::AutoScaling::AutoScalingGroup';

interface Distribution {
  readonly base: number;
  readonly percent: number;
}

/** On-demand instances among `n` (AWS rounds in favour of on-demand). */
export function onDemandCount(n: number, d: Distribution): number {
  const base = Math.min(n, d.base);
  return base + Math.ceil(((n - base) * d.percent) / 100);
}

function launchTemplateOf(asg: Resource, ctx: EstimateContext): { data: any; instanceType: string; text: string } {
  const mip = asg.props.MixedInstancesPolicy;
  const spec = mip?.LaunchTemplate?.LaunchTemplateSpecification ?? asg.props.LaunchTemplate;
  const lt = ctx.view.target(spec?.LaunchTemplateId);
  if (!lt) throw new Error(`${asg.id}: no launch template in the template (launch configurations are not priced)`);
  const data = lt.props.LaunchTemplateData ?? {};
  const instanceType = mip?.LaunchTemplate?.Overrides?.[0]?.InstanceType ?? data.InstanceType;
  if (typeof instanceType !== 'string') throw new Error(`${asg.id}: the instance type is not a literal: the estimate cannot price it`);
  return { data, instanceType, text: JSON.stringify(lt.props) };
}

function scheduleOf(asg: Resource, ctx: EstimateContext): ScheduledChange[] {
  const opt = (v: unknown, what: string) => (v === undefined ? undefined : literalNumber(v, what));
  return ctx.view.ofType('AWS::AutoScaling::ScheduledAction')
    .filter((a) => ctx.view.target(a.props.AutoScalingGroupName)?.id === asg.id)
    .map((a) => ({
      recurrence: String(a.props.Recurrence ?? ''),
      minSize: opt(a.props.MinSize, `${a.id} MinSize`),
      maxSize: opt(a.props.MaxSize, `${a.id} MaxSize`),
      desiredCapacity: opt(a.props.DesiredCapacity, `${a.id} DesiredCapacity`),
    }));
}

/** Instance-hours of a group, on-demand and spot, and the words saying how they were found. */
function instanceHours(asg: Resource, ctx: EstimateContext): { onDemand: number; spot: number; average: number; minSize: number; words: string[] } {
  const minSize = literalNumber(asg.props.MinSize, `${asg.id} MinSize`);
  const maxSize = literalNumber(asg.props.MaxSize, `${asg.id} MaxSize`);
  const desired = asg.props.DesiredCapacity === undefined ? minSize : literalNumber(asg.props.DesiredCapacity, `${asg.id} DesiredCapacity`);
  const changes = scheduleOf(asg, ctx);
  const modelled = changes.length > 0 ? weeklyProfile({ minSize, maxSize, desiredCapacity: desired }, changes) : undefined;
  const profile = modelled ?? new Map([[desired, MINUTES_PER_WEEK]]);
  const words = [`desired capacity ${desired} (MinSize ${minSize}) running all the time it is up: load at the minimum, scaling out costs more`];
  if (changes.length > 0) {
    const crons = changes.map((c) => `\`${c.recurrence}\` to ${c.desiredCapacity ?? c.minSize}`).join(', ');
    words.push(modelled
      ? `${changes.length} scheduled actions (${crons}): ${num(averageOf(profile))} instances on average over a week`
      : `${changes.length} scheduled actions (${crons}) are not weekly cron expressions: not modelled, the group is priced at its desired capacity all month`);
  }
  const inst = asg.props.MixedInstancesPolicy?.InstancesDistribution;
  const dist = { base: inst ? literalNumber(inst.OnDemandBaseCapacity ?? 0, `${asg.id} OnDemandBaseCapacity`) : Infinity, percent: inst ? literalNumber(inst.OnDemandPercentageAboveBaseCapacity ?? 100, `${asg.id} OnDemandPercentageAboveBaseCapacity`) : 100 };
  if (inst) words.push(`mixed instances policy: ${dist.base} on-demand base, ${dist.percent}% on-demand above it, the rest spot`);
  let onDemand = 0;
  let spot = 0;
  for (const [n, minutes] of profile) {
    const share = (minutes / MINUTES_PER_WEEK) * ctx.hours;
    const od = onDemandCount(n, dist);
    onDemand += od * share;
    spot += (n - od) * share;
  }
  return { onDemand, spot, average: averageOf(profile), minSize, words };
}

function groupLines(asg: Resource, ctx: EstimateContext): CostLine[] {
  const { data, instanceType, text } = launchTemplateOf(asg, ctx);
  const name = shortName(asg.id);
  const h = instanceHours(asg, ctx);
  const typeKey = `ec2.${instanceType}`;
  const odPrice = ctx.price(typeKey).usd;
  const spotShare = ctx.price('ec2.spotShareOfOnDemand').usd;
  const lines: CostLine[] = [];
  const actual = h.onDemand * odPrice + h.spot * odPrice * spotShare;
  const baseline = h.minSize * ctx.hours * odPrice;
  const onDemandLine = ctx.line(ASG, `${name}: ${instanceType} on-demand`, h.onDemand, typeKey, `${h.words.join('; ')}; ${ctx.hours} hours a month`, 1, 'instance-hour');
  lines.push(baseline - actual > 0.005 ? { ...onDemandLine, savingUsd: baseline - actual } : onDemandLine);
  if (h.spot > 0) {
    lines.push(ctx.line(ASG, `${name}: ${instanceType} spot`, h.spot, typeKey, `spot at ${num(spotShare * 100)}% of the on-demand price (ec2.spotShareOfOnDemand)`, spotShare, 'instance-hour (spot)'));
  }
  for (const bdm of data.BlockDeviceMappings ?? []) {
    const size = literalNumber(bdm.Ebs?.VolumeSize, `${asg.id} ${bdm.DeviceName} VolumeSize`);
    if ((bdm.Ebs?.VolumeType ?? 'gp3') !== 'gp3') throw new Error(`${asg.id}: only gp3 volumes are priced (found ${bdm.Ebs?.VolumeType})`);
    lines.push(ctx.line(ASG, `${name}: ${size} GB gp3 root volumes`, size * h.average, 'ebs.gp3', `${size} GB x ${num(h.average)} instances on average (baseline IOPS and throughput)`));
  }
  if (data.Monitoring?.Enabled === true) {
    const metrics = ctx.use('detailedMonitoringMetrics');
    lines.push(ctx.line(ASG, `${name}: detailed monitoring`, metrics * h.average, 'cloudwatch.metric', `${metrics} metrics (detailedMonitoringMetrics) x ${num(h.average)} instances`));
  }
  if (text.includes('amazon-cloudwatch-agent')) {
    const metrics = ctx.use('agentMetricsPerInstance');
    lines.push(ctx.line(ASG, `${name}: CloudWatch agent metrics`, metrics * h.average, 'cloudwatch.metric', `${metrics} custom metrics per instance (agentMetricsPerInstance) x ${num(h.average)} instances`));
  }
  return lines;
}

export const estimateAutoScalingGroups: Estimator = (asgs, ctx) => asgs.flatMap((asg) => groupLines(asg, ctx));

/** Single instances (the NAT instance): all month, with their root volume and public address. */
export const estimateInstances: Estimator = (instances, ctx) => instances.flatMap((i) => {
  const type = i.props.InstanceType;
  if (typeof type !== 'string') throw new Error(`${i.id}: the instance type is not a literal: the estimate cannot price it`);
  const name = shortName(i.id);
  const lines = [ctx.line(i.type, `${name}: ${type}`, ctx.hours, `ec2.${type}`, `running all month (${ctx.hours} hours)`, 1, 'instance-hour')];
  const sizes: number[] = (i.props.BlockDeviceMappings ?? []).map((b: any) => literalNumber(b.Ebs?.VolumeSize, `${i.id} VolumeSize`));
  const rootGb = sizes.length > 0 ? sizes.reduce((a, b) => a + b, 0) : ctx.use('natInstanceRootGb');
  lines.push(ctx.line(i.type, `${name}: gp3 root volume`, rootGb, 'ebs.gp3', sizes.length > 0 ? 'from the template' : `the image's default size (natInstanceRootGb ${rootGb})`));
  if ((i.props.NetworkInterfaces ?? []).some((n: any) => n.AssociatePublicIpAddress === true)) {
    lines.push(ctx.line(i.type, `${name}: public IPv4 address`, ctx.hours, 'ec2.publicIpv4', 'one address all month'));
  }
  if (i.props.Monitoring === true) {
    const metrics = ctx.use('detailedMonitoringMetrics');
    lines.push(ctx.line(i.type, `${name}: detailed monitoring`, metrics, 'cloudwatch.metric', `${metrics} metrics (detailedMonitoringMetrics)`));
  }
  return lines;
});
