import './v8-flags';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { HttpOnlyPolicy, InterfaceEndpointService, NatMode, Preset, PresetValues } from '../../src';

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

/**
 * One row per `PresetValues` field (`name` is the column header), in the order shown. Typed as a
 * record of every field, so a new field does not compile without its row.
 */
export const DEFAULTS_ROWS: Record<Exclude<keyof PresetValues, 'name'>, Row> = {
  maxAzs: { label: 'Availability Zones', render: (v) => String(v.maxAzs) },
  natMode: { label: 'NAT for web and app subnets', render: (v) => renderNatMode(v.natMode) },
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
  databaseInstanceType: { label: 'Database instance class', render: (v) => code(`db.${v.databaseInstanceType}`) },
  multiAz: { label: 'Database Multi-AZ', render: (v) => yesNo(v.multiAz) },
  allocatedStorageGiB: { label: 'Database storage', render: (v) => `${v.allocatedStorageGiB} GiB` },
  maxAllocatedStorageGiB: { label: 'Database storage autoscaling limit', render: (v) => `${v.maxAllocatedStorageGiB} GiB` },
  backupRetention: { label: 'Automated backup retention', render: (v) => renderDuration(v.backupRetention) },
  backupPlan: { label: 'AWS Backup plan', render: (v) => yesNo(v.backupPlan) },
  monthlyBackups: { label: 'Backup plan keeps monthly backups for a year', render: (v) => yesNo(v.monthlyBackups) },
  databaseDeletionProtection: { label: 'Database deletion protection', render: (v) => yesNo(v.databaseDeletionProtection) },
  databaseRemovalPolicy: { label: 'Database removal policy', render: (v) => renderRemovalPolicy(v.databaseRemovalPolicy) },
  monitoringInterval: { label: 'Enhanced monitoring interval', render: (v) => renderDuration(v.monitoringInterval) },
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
