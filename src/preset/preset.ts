import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AlarmThresholds, PRESET_ALARM_THRESHOLDS } from './alarm-threshold-values';
import { BackupRules } from '../data/options/backup-rules';
import { OffHoursSchedule } from '../fleet/off-hours-schedule';
import { InterfaceEndpointService } from '../network/options/endpoints';
import { EgressMode, NatMode } from '../network/options/nat-mode';
import { ALL_INTERFACE_ENDPOINTS } from '../private/endpoints';
import { isDuration } from '../private/resolve';
import { formatValue } from '../private/validation';

/**
 * What happens when the web tier has no certificate (HTTP only).
 */
export enum HttpOnlyPolicy {
  /** HTTP only is accepted silently. */
  ALLOW = 'allow',
  /** HTTP only works, with a warning annotation (`cdk-three-tier:httpOnly`). */
  WARN = 'warn',
  /** HTTP only fails synth unless `allowHttpOnly: true` is given. */
  ERROR = 'error',
}

/**
 * The values a preset sets. Every one of them can be overridden by the matching tier prop.
 */
export interface PresetValues {
  /** Preset name, used in tags and outputs (`dev`, `staging`, `prod`). */
  readonly name: string;
  /** Number of Availability Zones. */
  readonly maxAzs: number;
  /**
   * Where the web and app subnets may send traffic that leaves the VPC.
   *
   * @default - `EgressMode.AWS_SERVICES_ONLY` when `natMode` is `NatMode.none()`, otherwise
   * `EgressMode.INTERNET_HTTPS`
   */
  readonly egress?: EgressMode;
  /** NAT for the web and app subnets when egress is `EgressMode.INTERNET_HTTPS` (ignored with AWS-only egress). */
  readonly natMode: NatMode;
  /** Interface VPC endpoints. */
  readonly interfaceEndpoints: InterfaceEndpointService[];
  /** Retention of VPC flow logs. */
  readonly flowLogRetention: logs.RetentionDays;
  /** Days ALB access logs are kept. */
  readonly accessLogExpirationDays: number;
  /** Deletion protection of both load balancers. */
  readonly loadBalancerDeletionProtection: boolean;
  /** What HTTP only (no certificate) does. */
  readonly httpOnlyPolicy: HttpOnlyPolicy;
  /** Web (NGINX) instance type. */
  readonly webInstanceType: ec2.InstanceType;
  /** Web ASG minimum capacity. */
  readonly webMinCapacity: number;
  /** Web ASG maximum capacity. */
  readonly webMaxCapacity: number;
  /** App (API) instance type. */
  readonly appInstanceType: ec2.InstanceType;
  /** App ASG minimum capacity. */
  readonly appMinCapacity: number;
  /** App ASG maximum capacity. */
  readonly appMaxCapacity: number;
  /** Database instance type. */
  readonly databaseInstanceType: ec2.InstanceType;
  /** Database Multi-AZ. */
  readonly multiAz: boolean;
  /** Initial database storage in GiB. */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling in GiB. */
  readonly maxAllocatedStorageGiB: number;
  /** Automated backup retention. */
  readonly backupRetention: Duration;
  /** Database deletion protection. */
  readonly databaseDeletionProtection: boolean;
  /** What happens to the database (and its key) when it leaves the stack. */
  readonly databaseRemovalPolicy: RemovalPolicy;
  /** Enhanced monitoring interval of the database. */
  readonly monitoringInterval: Duration;
  /** AWS Backup plan for the database. */
  readonly backupPlan: boolean;
  /**
   * Without `backupRules` (custom presets of earlier releases): the AWS Backup plan keeps daily
   * backups 35 days and, when true, monthly backups a year. Ignored when `backupRules` is set.
   */
  readonly monthlyBackups: boolean;
  /** Web and app fleets on spot instances (the tiers' `spot`). @default false */
  readonly spotInstances?: boolean;
  /** Web and app fleets scaled to zero off hours (the tiers' `offHoursSchedule`). @default - always on */
  readonly offHoursSchedule?: OffHoursSchedule;
  /**
   * Thresholds of the platform's alarms; a field left out takes the library default (staging's).
   * @default - dev, staging and prod each set all of them (see `AlarmThresholds`)
   */
  readonly alarmThresholds?: AlarmThresholds;
  /**
   * Rules of the AWS Backup plan: how long daily, weekly and monthly backups are kept.
   *
   * @default - daily backups kept 35 days, plus monthly backups kept 365 days with `monthlyBackups`
   */
  readonly backupRules?: BackupRules;
  /**
   * Monthly cost limit of the platform's AWS Budgets budget, in USD.
   *
   * @default - no budget
   */
  readonly monthlyBudgetUsd?: number;
  /**
   * Retention of the platform's log groups (instance logs, database log exports).
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const t = (c: ec2.InstanceClass, s: ec2.InstanceSize) => ec2.InstanceType.of(c, s);

/**
 * Environment presets: `Preset.dev()`, `Preset.staging()`, `Preset.prod()`.
 *
 * A preset fills in every value a user does not set; a tier prop always wins over the preset.
 */
export class Preset {
  /**
   * Cheapest setup that is still secure: 2 AZs, HTTPS egress through one NAT instance, single-AZ database, short
   * retention, no deletion protection, HTTP without a certificate allowed.
   */
  public static dev(): Preset {
    return new Preset({
      name: 'dev',
      maxAzs: 2,
      egress: EgressMode.INTERNET_HTTPS,
      natMode: NatMode.instance(),
      interfaceEndpoints: [],
      flowLogRetention: logs.RetentionDays.ONE_WEEK,
      accessLogExpirationDays: 30,
      loadBalancerDeletionProtection: false,
      httpOnlyPolicy: HttpOnlyPolicy.ALLOW,
      webInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
      webMinCapacity: 1,
      webMaxCapacity: 2,
      appInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
      appMinCapacity: 1,
      appMaxCapacity: 2,
      databaseInstanceType: t(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
      multiAz: false,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 50,
      backupRetention: Duration.days(1),
      databaseDeletionProtection: false,
      databaseRemovalPolicy: RemovalPolicy.DESTROY,
      monitoringInterval: Duration.seconds(60),
      backupPlan: false,
      monthlyBackups: false,
      alarmThresholds: { ...PRESET_ALARM_THRESHOLDS.dev },
      monthlyBudgetUsd: 150,
      logRetention: logs.RetentionDays.ONE_WEEK,
      spotInstances: true,
      offHoursSchedule: OffHoursSchedule.weekdays(),
    });
  }

  /**
   * Production-like at lower cost: 2 AZs, HTTPS egress through one NAT gateway (prod reaches AWS
   * services only: pass `egress: EgressMode.AWS_SERVICES_ONLY` to test that in staging), Multi-AZ
   * database, snapshot on removal, HTTP without a certificate works with a warning.
   */
  public static staging(): Preset {
    return new Preset({
      name: 'staging',
      maxAzs: 2,
      egress: EgressMode.INTERNET_HTTPS,
      natMode: NatMode.singleGateway(),
      interfaceEndpoints: [],
      flowLogRetention: logs.RetentionDays.ONE_MONTH,
      accessLogExpirationDays: 90,
      loadBalancerDeletionProtection: false,
      httpOnlyPolicy: HttpOnlyPolicy.WARN,
      webInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
      webMinCapacity: 2,
      webMaxCapacity: 4,
      appInstanceType: t(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL),
      appMinCapacity: 2,
      appMaxCapacity: 4,
      databaseInstanceType: t(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      multiAz: true,
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 100,
      backupRetention: Duration.days(7),
      databaseDeletionProtection: false,
      databaseRemovalPolicy: RemovalPolicy.SNAPSHOT,
      monitoringInterval: Duration.seconds(60),
      backupPlan: true,
      monthlyBackups: false,
      alarmThresholds: { ...PRESET_ALARM_THRESHOLDS.staging },
      backupRules: { daily: Duration.days(7), weekly: Duration.days(35) },
      monthlyBudgetUsd: 500,
      logRetention: logs.RetentionDays.ONE_MONTH,
      spotInstances: false,
      offHoursSchedule: OffHoursSchedule.weekdays(),
    });
  }

  /**
   * Highly available: 3 AZs, egress to AWS services only (all interface endpoints and the S3
   * gateway endpoint, no NAT; with `EgressMode.INTERNET_HTTPS` a NAT gateway per AZ), Multi-AZ
   * database with deletion protection and 30-day backups, snapshot on removal, HTTPS required.
   */
  public static prod(): Preset {
    return new Preset({
      name: 'prod',
      maxAzs: 3,
      egress: EgressMode.AWS_SERVICES_ONLY,
      natMode: NatMode.gatewayPerAz(),
      interfaceEndpoints: [...ALL_INTERFACE_ENDPOINTS],
      flowLogRetention: logs.RetentionDays.ONE_YEAR,
      accessLogExpirationDays: 365,
      loadBalancerDeletionProtection: true,
      httpOnlyPolicy: HttpOnlyPolicy.ERROR,
      webInstanceType: t(ec2.InstanceClass.M7I, ec2.InstanceSize.LARGE),
      webMinCapacity: 3,
      webMaxCapacity: 9,
      appInstanceType: t(ec2.InstanceClass.M7I, ec2.InstanceSize.LARGE),
      appMinCapacity: 3,
      appMaxCapacity: 9,
      databaseInstanceType: t(ec2.InstanceClass.R7G, ec2.InstanceSize.LARGE),
      multiAz: true,
      allocatedStorageGiB: 100,
      maxAllocatedStorageGiB: 1000,
      backupRetention: Duration.days(30),
      databaseDeletionProtection: true,
      databaseRemovalPolicy: RemovalPolicy.SNAPSHOT,
      monitoringInterval: Duration.seconds(30),
      backupPlan: true,
      monthlyBackups: true,
      alarmThresholds: { ...PRESET_ALARM_THRESHOLDS.prod },
      backupRules: { daily: Duration.days(35), weekly: Duration.days(84), monthly: Duration.days(365) },
      monthlyBudgetUsd: 3000,
      logRetention: logs.RetentionDays.ONE_YEAR,
      spotInstances: false,
    });
  }

  /**
   * A preset of your own, e.g. `Preset.custom({ ...Preset.prod().values, name: 'perf' })`.
   *
   * Every field is checked here (present, of its type, no unknown field), with errors naming
   * `values.<field>`; the tiers check ranges and name the field as `preset.values.<field>`.
   */
  public static custom(values: PresetValues): Preset {
    return new Preset(checkPresetValues(values));
  }

  /** The preset's name. */
  public readonly name: string;

  /** Every value the preset sets. */
  public readonly values: PresetValues;

  private constructor(values: PresetValues) {
    this.name = values.name;
    this.values = values;
  }
}

/** Where `Preset.custom` errors point. */
const CUSTOM = 'Preset.custom()';

/** A check of one preset field: undefined when the value is fine, else what is allowed. */
type FieldCheck = (value: unknown) => string | undefined;

const isNumber: FieldCheck = (v) => (typeof v === 'number' && !Number.isNaN(v) ? undefined : 'must be a number');
const isBoolean: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
const oneOf = (what: string, values: readonly unknown[]): FieldCheck =>
  (v) => (values.includes(v) ? undefined : `must be one of ${what} (${values.map((x) => JSON.stringify(x)).join(', ')})`);
const isInstanceType: FieldCheck = (v) => (typeof v === 'object' && v !== null && typeof (v as ec2.InstanceType).sameInstanceClassAs === 'function'
  ? undefined : 'must be an ec2.InstanceType, e.g. ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO)');
const isDurationValue: FieldCheck = (v) => (isDuration(v) ? undefined : 'must be a Duration, e.g. Duration.days(7)');
const optional = (check: FieldCheck): FieldCheck => (v) => (v === undefined ? undefined : check(v));
const numericEnumValues = (e: object) => Object.values(e).filter((x) => typeof x === 'number');

/**
 * The check of every preset field. The tiers check ranges (capacities, storage sizes, ...) with the
 * error naming the preset field; here each field must be present and of its type.
 */
const FIELD_CHECKS: { [K in keyof PresetValues]-?: FieldCheck } = {
  name: (v) => (typeof v === 'string' && (Token.isUnresolved(v) || /^[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,127}$/.test(v))
    ? undefined : 'must be 1 to 128 characters valid in a tag value, starting with a letter or digit (it tags every resource)'),
  maxAzs: isNumber,
  egress: optional(oneOf('EgressMode', Object.values(EgressMode))),
  natMode: (v) => (v instanceof NatMode ? undefined : 'must be a NatMode, e.g. NatMode.singleGateway()'),
  interfaceEndpoints: (v) => (Array.isArray(v) && v.every((e) => Object.values(InterfaceEndpointService).includes(e))
    ? undefined : `must be a list of InterfaceEndpointService values (${Object.values(InterfaceEndpointService).join(', ')})`),
  flowLogRetention: oneOf('logs.RetentionDays', numericEnumValues(logs.RetentionDays)),
  accessLogExpirationDays: isNumber,
  loadBalancerDeletionProtection: isBoolean,
  httpOnlyPolicy: oneOf('HttpOnlyPolicy', Object.values(HttpOnlyPolicy)),
  webInstanceType: isInstanceType,
  webMinCapacity: isNumber,
  webMaxCapacity: isNumber,
  appInstanceType: isInstanceType,
  appMinCapacity: isNumber,
  appMaxCapacity: isNumber,
  databaseInstanceType: isInstanceType,
  multiAz: isBoolean,
  allocatedStorageGiB: isNumber,
  maxAllocatedStorageGiB: isNumber,
  backupRetention: isDurationValue,
  databaseDeletionProtection: isBoolean,
  databaseRemovalPolicy: oneOf('RemovalPolicy', Object.values(RemovalPolicy)),
  monitoringInterval: isDurationValue,
  backupPlan: isBoolean,
  monthlyBackups: isBoolean,
  spotInstances: optional(isBoolean),
  offHoursSchedule: optional((v) => (v instanceof OffHoursSchedule ? undefined : 'must be an OffHoursSchedule, e.g. OffHoursSchedule.weekdays()')),
  alarmThresholds: optional((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'must be an AlarmThresholds object, e.g. { fleetCpuPercent: 85 }')),
  backupRules: optional((v) => (typeof v === 'object' && v !== null && !Array.isArray(v)
    && Object.entries(v).every(([k, d]) => ['daily', 'weekly', 'monthly'].includes(k) && (d === undefined || isDuration(d)))
    ? undefined : 'must be a BackupRules object: daily, weekly and/or monthly retentions as Durations')),
  monthlyBudgetUsd: optional(isNumber),
  logRetention: optional(oneOf('logs.RetentionDays', numericEnumValues(logs.RetentionDays))),
};

/**
 * Checks the values of `Preset.custom` (plain JavaScript callers can pass anything): every field
 * present and of its type, no unknown field. Errors name `values.<field>`. Returns a copy, so later
 * changes to the caller's object do not reach the preset.
 */
function checkPresetValues(values: PresetValues): PresetValues {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new Error(`values (${formatValue(values)}) must be an object with every PresetValues field, e.g. { ...Preset.prod().values, name: 'perf' }, in ${CUSTOM}`);
  }
  for (const key of Object.keys(values)) {
    if (!(key in FIELD_CHECKS)) {
      throw new Error(`values.${key} (${formatValue((values as unknown as Record<string, unknown>)[key])}) is not a PresetValues field (${Object.keys(FIELD_CHECKS).join(', ')}) in ${CUSTOM}`);
    }
  }
  for (const [field, check] of Object.entries<FieldCheck>(FIELD_CHECKS)) {
    const value = (values as unknown as Record<string, unknown>)[field];
    const problem = check(value);
    if (problem === undefined) continue;
    const required = value === undefined || value === null ? 'is required: it ' : '';
    throw new Error(`values.${field} (${formatValue(value)}) ${required}${problem} in ${CUSTOM}`);
  }
  return { ...values };
}
