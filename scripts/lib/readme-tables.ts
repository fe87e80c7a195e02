/**
 * Renderers of the README's tables from the code: defaults by environment, egress costs and the
 * prod network ACL rules (see scripts/lib/readme-blocks.ts). test/readme.test.ts, test/nacl.test.ts
 * and test/network.test.ts check them against the code.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import {
  AppSource, EgressMode, HttpOnlyPolicy, InterfaceEndpointService, NatMode, OffHoursSchedule, Preset, PresetValues, SubnetTrafficRule,
  ThreeTierPlatform,
} from '../../src';
import { AWS_ONLY_ENDPOINTS, presetEgress } from '../../src/network/network-inputs';
import { describeThresholds } from '../../src/preset/alarm-threshold-values';

/** A row of the defaults table: its label and how a preset's value reads. */
interface Row {
  readonly label: string;
  readonly render: (values: PresetValues) => string;
}

const NUMBER_WORDS: Record<string, number> = {
  ONE: 1, TWO: 2, THREE: 3, FOUR: 4, FIVE: 5, SIX: 6, SEVEN: 7, EIGHT: 8, NINE: 9, TEN: 10, THIRTEEN: 13, EIGHTEEN: 18,
};

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
const code = (s: string) => `\`${s}\``;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** `ONE_WEEK` reads `1 week`, `THIRTEEN_MONTHS` `13 months`, `INFINITE` `never expires`; other values in days. */
export function renderRetention(days: logs.RetentionDays): string {
  if (days === logs.RetentionDays.INFINITE) return 'never expires';
  const name: string | undefined = (logs.RetentionDays as unknown as Record<number, string>)[days];
  const m = name ? /^([A-Z]+)_(DAY|WEEK|MONTH|YEAR)S?$/.exec(name) : null;
  if (m && NUMBER_WORDS[m[1]] !== undefined) return plural(NUMBER_WORDS[m[1]], m[2].toLowerCase());
  return plural(days, 'day');
}

/** `NatMode.gatewayPerAz()`, `NatMode.singleGateway()`, `NatMode.instance(t3.nano)`, `NatMode.none()`. */
export function renderNatMode(mode: NatMode): string {
  const factory = mode.mode.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  return code(`NatMode.${factory}(${mode.instanceType ?? ''})`);
}

/** A duration in whole days, else in seconds. */
export function renderDuration(d: Duration): string {
  const seconds = d.toSeconds();
  if (seconds === 0) return 'off';
  return seconds % 86400 === 0 ? plural(seconds / 86400, 'day') : plural(seconds, 'second');
}

function renderEgress(egress: EgressMode): string {
  return egress === EgressMode.AWS_SERVICES_ONLY
    ? `AWS services only, through VPC endpoints (${code('EgressMode.AWS_SERVICES_ONLY')})`
    : `HTTPS to the internet through NAT (${code('EgressMode.INTERNET_HTTPS')})`;
}

function renderEndpoints(services: InterfaceEndpointService[]): string {
  return services.length === 0 ? 'none' : services.map(code).join(', ');
}

function renderRemovalPolicy(policy: RemovalPolicy): string {
  const name = Object.entries(RemovalPolicy).find(([, v]) => v === policy)?.[0] ?? String(policy);
  return code(name);
}

function renderHttpOnly(policy: HttpOnlyPolicy): string {
  switch (policy) {
    case HttpOnlyPolicy.ALLOW: return 'allowed';
    case HttpOnlyPolicy.WARN: return `allowed with a warning (${code('cdk-three-tier:httpOnly')})`;
    case HttpOnlyPolicy.ERROR: return `error unless ${code('allowHttpOnly: true')}`;
  }
}

const instance = (t: ec2.InstanceType) => code(t.toString());

const DAY_NAMES: Record<string, string> = { SUN: 'Sun', MON: 'Mon', TUE: 'Tue', WED: 'Wed', THU: 'Thu', FRI: 'Fri', SAT: 'Sat' };

/** `0 20 * * MON-FRI` as its time (`20:00`) and days (`Mon-Fri`), or undefined for another shape of cron. */
function dailyCron(expression: string): { time: string; days: string } | undefined {
  const m = /^(\d{1,2}) (\d{1,2}) \* \* (\S+)$/.exec(expression);
  if (!m) return undefined;
  const days = m[3] === '*' ? 'every day' : m[3].replace(/[A-Z]{3}/g, (d) => DAY_NAMES[d] ?? d);
  return { time: `${m[2].padStart(2, '0')}:${m[1].padStart(2, '0')}`, days };
}

/** `running 07:00-20:00 Mon-Fri (UTC), scaled to zero otherwise`, `always on`, or the two crons as given. */
export function renderOffHours(schedule: OffHoursSchedule | undefined): string {
  const s = schedule?.schedule;
  if (!s) return 'always on';
  const zone = s.timeZone ?? 'UTC';
  const up = dailyCron(s.scaleUp.expressionString);
  const down = dailyCron(s.scaleDown.expressionString);
  if (up && down && up.days === down.days && up.time < down.time) {
    return `running ${up.time}-${down.time} ${up.days} (${zone}), scaled to zero otherwise`;
  }
  return `scaled to zero at ${code(s.scaleDown.expressionString)}, back up at ${code(s.scaleUp.expressionString)} (${zone})`;
}

/** `daily 7 days, weekly 35 days`; without rules, the plan of earlier releases (daily 35 days, monthly a year). */
export function renderBackupRules(values: PresetValues): string {
  if (!values.backupPlan) return 'no backup plan';
  const rules = values.backupRules ?? { daily: Duration.days(35), monthly: values.monthlyBackups ? Duration.days(365) : undefined };
  const parts = (['daily', 'weekly', 'monthly'] as const)
    .filter((k) => rules[k] !== undefined)
    .map((k) => `${k} ${renderDuration(rules[k]!)}`);
  return parts.join(', ') || 'none';
}

function renderSpot(spot: boolean | undefined): string {
  return spot
    ? `spot over same-size instance types (on-demand fallback: none; see ${code('onDemandBaseCapacity')})`
    : 'on-demand';
}

/**
 * One row per `PresetValues` field (`name` is the column header), in the order shown. Typed as a
 * record of every field, so a new field does not compile without its row.
 */
export const DEFAULTS_ROWS: Record<Exclude<keyof PresetValues, 'name'>, Row> = {
  maxAzs: { label: 'Availability Zones', render: (v) => String(v.maxAzs) },
  egress: { label: 'Egress of web and app subnets', render: (v) => renderEgress(presetEgress(v)) },
  natMode: { label: 'NAT for web and app subnets with internet egress', render: (v) => renderNatMode(v.natMode) },
  interfaceEndpoints: { label: 'Interface VPC endpoints', render: (v) => renderEndpoints(v.interfaceEndpoints) },
  flowLogRetention: { label: 'Flow log (and WAF log) retention', render: (v) => renderRetention(v.flowLogRetention) },
  accessLogExpirationDays: { label: 'Load balancer access logs kept', render: (v) => plural(v.accessLogExpirationDays, 'day') },
  loadBalancerDeletionProtection: { label: 'Load balancer deletion protection', render: (v) => yesNo(v.loadBalancerDeletionProtection) },
  httpOnlyPolicy: { label: 'HTTP only (no certificate)', render: (v) => renderHttpOnly(v.httpOnlyPolicy) },
  webInstanceType: { label: 'Web (NGINX) instance type', render: (v) => instance(v.webInstanceType) },
  webMinCapacity: { label: 'Web instances, minimum', render: (v) => String(v.webMinCapacity) },
  webMaxCapacity: { label: 'Web instances, maximum', render: (v) => String(v.webMaxCapacity) },
  appInstanceType: { label: 'App (API) instance type', render: (v) => instance(v.appInstanceType) },
  appMinCapacity: { label: 'App instances, minimum', render: (v) => String(v.appMinCapacity) },
  appMaxCapacity: { label: 'App instances, maximum', render: (v) => String(v.appMaxCapacity) },
  spotInstances: { label: 'Web and app instance purchase', render: (v) => renderSpot(v.spotInstances) },
  offHoursSchedule: { label: 'Web and app off-hours schedule', render: (v) => renderOffHours(v.offHoursSchedule) },
  databaseInstanceType: { label: 'Database instance class', render: (v) => code(`db.${v.databaseInstanceType}`) },
  multiAz: { label: 'Database Multi-AZ', render: (v) => yesNo(v.multiAz) },
  allocatedStorageGiB: { label: 'Database storage', render: (v) => `${v.allocatedStorageGiB} GiB` },
  maxAllocatedStorageGiB: { label: 'Database storage autoscaling limit', render: (v) => `${v.maxAllocatedStorageGiB} GiB` },
  backupRetention: { label: 'Automated backup retention', render: (v) => renderDuration(v.backupRetention) },
  backupPlan: { label: 'AWS Backup plan', render: (v) => yesNo(v.backupPlan) },
  backupRules: { label: 'Backup plan rules: backups kept', render: renderBackupRules },
  monthlyBackups: { label: 'Monthly backups kept a year when no backup rules are set', render: (v) => yesNo(v.monthlyBackups) },
  databaseDeletionProtection: { label: 'Database deletion protection', render: (v) => yesNo(v.databaseDeletionProtection) },
  databaseRemovalPolicy: { label: 'Database removal policy', render: (v) => renderRemovalPolicy(v.databaseRemovalPolicy) },
  monitoringInterval: { label: 'Enhanced monitoring interval', render: (v) => renderDuration(v.monitoringInterval) },
  logRetention: { label: 'Instance and database log retention', render: (v) => renderRetention(v.logRetention ?? logs.RetentionDays.ONE_MONTH) },
  alarmThresholds: { label: 'Alarm thresholds', render: (v) => describeThresholds(v.alarmThresholds) },
  monthlyBudgetUsd: { label: 'Monthly cost budget (AWS Budgets)', render: (v) => (v.monthlyBudgetUsd === undefined ? 'none' : `${v.monthlyBudgetUsd} USD`) },
};

/** The presets shown, in column order. */
export const TABLE_PRESETS = (): Preset[] => [Preset.dev(), Preset.staging(), Preset.prod()];

/**
 * The "defaults by environment" table: `| Setting | dev | staging | prod |`, one row per
 * `PresetValues` field, each setting labelled with its field name.
 */
export function renderDefaultsTable(): string {
  const presets = TABLE_PRESETS().map((p) => p.values);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(['Setting', ...presets.map((p) => p.name)]),
    line(['---', ...presets.map(() => '---')]),
    ...Object.entries(DEFAULTS_ROWS).map(([field, row]) => line([`${row.label} (${code(field)})`, ...presets.map(row.render)])),
  ].join('\n');
}

/**
 * us-east-1 on-demand prices in USD (AWS price pages, 2026) behind the egress cost notes.
 * Data transfer to the internet is the same with either egress and left out.
 */
export const US_EAST_1_PRICES = {
  natGatewayPerHour: 0.045,
  natGatewayPerGb: 0.045,
  interfaceEndpointPerAzHour: 0.01,
  interfaceEndpointPerGb: 0.01,
  publicIpv4PerHour: 0.005,
  instancePerHour: { 't3.nano': 0.0052, 't4g.nano': 0.0042 } as Record<string, number>,
};
export const HOURS_PER_MONTH = 730;

/** The monthly cost of a preset's egress: NAT and interface endpoints, fixed and per GB. */
export interface EgressCost {
  readonly egress: EgressMode;
  /** NAT in words, with its monthly cost. */
  readonly nat: string;
  readonly natMonthly: number;
  readonly endpoints: number;
  readonly endpointsMonthly: number;
  /** Charge per GB processed by NAT (internet traffic) or the endpoints (AWS API traffic). */
  readonly perGb: string;
  readonly monthly: number;
}

const usd = (n: number) => `$${n.toFixed(2)}`;
/** A unit price as published (up to 4 decimals). */
const price = (n: number) => `$${Number(n.toFixed(4))}`;

/** What a preset's network costs per month with the given egress (by default its own). */
export function egressCost(values: PresetValues, egress: EgressMode = presetEgress(values)): EgressCost {
  const p = US_EAST_1_PRICES;
  const endpointSet = new Set(values.interfaceEndpoints);
  let nat = 'none';
  let natMonthly = 0;
  let perGb: string;
  if (egress === EgressMode.AWS_SERVICES_ONLY) {
    AWS_ONLY_ENDPOINTS.forEach((e) => endpointSet.add(e));
    perGb = `${price(p.interfaceEndpointPerGb)}/GB through the endpoints`;
  } else {
    const mode = values.natMode;
    if (mode.mode === 'instance') {
      const type = String(mode.instanceType);
      const hourly = p.instancePerHour[type];
      if (hourly === undefined) throw new Error(`no price for the NAT instance type ${type}: add it to US_EAST_1_PRICES`);
      natMonthly = (hourly + p.publicIpv4PerHour) * HOURS_PER_MONTH;
      nat = `1 NAT instance (${type}) with a public IPv4 address`;
      perGb = 'no NAT charge per GB';
    } else {
      const count = mode.natCount(values.maxAzs);
      natMonthly = count * (p.natGatewayPerHour + p.publicIpv4PerHour) * HOURS_PER_MONTH;
      nat = `${count} NAT gateway${count === 1 ? '' : 's'} with ${count === 1 ? 'its' : 'their'} public IPv4 address${count === 1 ? '' : 'es'}`;
      perGb = `${price(p.natGatewayPerGb)}/GB through NAT`;
    }
    if (endpointSet.size > 0) perGb += `, ${price(p.interfaceEndpointPerGb)}/GB through the endpoints`;
  }
  const endpointsMonthly = endpointSet.size * values.maxAzs * p.interfaceEndpointPerAzHour * HOURS_PER_MONTH;
  return { egress, nat, natMonthly, endpoints: endpointSet.size, endpointsMonthly, perGb, monthly: natMonthly + endpointsMonthly };
}

/** The egress costs table: each preset's choice, its monthly cost, and the other choice's. */
export function renderEgressCosts(): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const rows = TABLE_PRESETS().map((preset) => {
    const v = preset.values;
    const own = egressCost(v);
    const other = egressCost(v, own.egress === EgressMode.AWS_SERVICES_ONLY ? EgressMode.INTERNET_HTTPS : EgressMode.AWS_SERVICES_ONLY);
    const otherName = other.egress === EgressMode.AWS_SERVICES_ONLY ? 'AWS services only' : 'internet egress';
    return line([
      v.name,
      own.egress === EgressMode.AWS_SERVICES_ONLY ? 'AWS services only' : 'HTTPS to the internet',
      own.natMonthly > 0 ? `${own.nat}: ${usd(own.natMonthly)}` : 'none',
      own.endpoints > 0 ? `${own.endpoints} x ${v.maxAzs} AZs: ${usd(own.endpointsMonthly)}` : 'none',
      `**${usd(own.monthly)}** + ${own.perGb}`,
      `${otherName}: ${usd(other.monthly)} (${other.monthly >= own.monthly ? '+' : '-'}${usd(Math.abs(other.monthly - own.monthly))}) + ${other.perGb}`,
    ]);
  });
  return [
    line(['Preset', 'Egress', 'NAT', 'Interface endpoints', 'Per month (fixed + traffic)', 'With the other egress']),
    line(['---', '---', '---', '---', '---', '---']),
    ...rows,
    '',
    `us-east-1 on-demand prices, ${HOURS_PER_MONTH} hours a month: NAT gateway ${price(US_EAST_1_PRICES.natGatewayPerHour)}/hour and ` +
    `${price(US_EAST_1_PRICES.natGatewayPerGb)}/GB processed, interface endpoint ${price(US_EAST_1_PRICES.interfaceEndpointPerAzHour)}/hour per AZ and ` +
    `${price(US_EAST_1_PRICES.interfaceEndpointPerGb)}/GB, public IPv4 address ${price(US_EAST_1_PRICES.publicIpv4PerHour)}/hour, ` +
    `t3.nano ${price(US_EAST_1_PRICES.instancePerHour['t3.nano'])}/hour. The S3 gateway endpoint is free (package downloads and assets ` +
    'never pass NAT); data transfer to the internet costs the same either way and is left out.',
  ].join('\n');
}

const RULE_GROUP_NAMES: Record<string, string> = { Public: 'public', Web: 'web', App: 'app', Data: 'data' };

/** The ports of a rule as text: `tcp 443`, `tcp 1024-65535`, `all`. */
export function renderRulePorts(rule: SubnetTrafficRule): string {
  if (rule.protocol === 'all') return 'all';
  return rule.fromPort === rule.toPort ? `${rule.protocol} ${rule.fromPort}` : `${rule.protocol} ${rule.fromPort}-${rule.toPort}`;
}

/** A table of network ACL rules, one row per entry. */
export function renderNaclRules(rules: SubnetTrafficRule[]): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [
    line(['Subnets', 'Direction', 'Rule', 'Action', 'Traffic', 'Peer', 'Why']),
    line(['---', '---', '---', '---', '---', '---', '---']),
    ...rules.map((r) => line([
      RULE_GROUP_NAMES[r.subnetGroup] ?? r.subnetGroup,
      r.egress ? 'out' : 'in',
      r.ruleNumber,
      r.allow ? 'allow' : 'deny',
      renderRulePorts(r),
      `${r.peer} (${r.cidr})`,
      r.purpose,
    ])),
  ].join('\n');
}

/** The prod preset with a domain (HTTPS on both load balancers), as in the security-group graph. */
export function prodPlatformWithDomain(): ThreeTierPlatform {
  const stack = new Stack(new App(), 'Readme', { env: { account: '123456789012', region: 'us-east-1' } });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'example.com' });
  return new ThreeTierPlatform(stack, 'Platform', {
    preset: Preset.prod(),
    app: { source: AppSource.fromInline("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);") },
    web: { domainName: 'shop.example.com', hostedZone },
  });
}

/** The network ACL rules of the prod preset with a domain. */
export function renderProdNaclRules(): string {
  return renderNaclRules(prodPlatformWithDomain().network.subnetTrafficRules);
}
