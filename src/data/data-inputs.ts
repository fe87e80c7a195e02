import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { renderAppUserSql } from './app-user-sql';
import { BackupPlanInputs, checkBackupRules } from './backup';
import {
  checkDays, checkName, engineVersionOf, instanceTypeOf, monitoringIntervalOf, performanceInsightsOf, rotationScheduleOf, RotationSchedule,
} from './data-checks';
import { DataTierProps } from './data-tier-props';
import { Preset, PresetValues } from '../preset/preset';
import { describeToken, propOrPreset, resolveNumber } from '../private/resolve';
import { appUsernameProblem, databaseNameProblem } from '../private/sql';
import { checkIntRange, checkOrder, invalid } from '../private/validation';

/** The default MySQL engine version: a full version, as RDS and cfn-lint require. */
export const DEFAULT_ENGINE_VERSION = '8.4.7';

/**
 * The inputs a DataTier is built from: the props over the preset over the library defaults,
 * validated, tokens resolved where the stack can resolve them (others are passed on for
 * CloudFormation to validate).
 */
export interface DataInputs {
  readonly engine: rds.IInstanceEngine;
  readonly instanceType: ec2.InstanceType;
  readonly multiAz: boolean;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly port: number;
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly appUsername: string;
  /** The SQL that creates the app user. */
  readonly appUserStatements: string[];
  readonly allocatedStorage: number;
  readonly maxAllocatedStorage: number;
  readonly backupRetention: Duration;
  /** The rotation schedule; undefined when rotation is off. */
  readonly rotation?: RotationSchedule;
  /** The enhanced monitoring interval; undefined when it is off. */
  readonly monitoringInterval?: Duration;
  readonly performanceInsights: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly deletionProtection: boolean;
  /** The AWS Backup plan's rules and copy; undefined when the plan is off. */
  readonly backup?: BackupPlanInputs;
  /** Retention of the database's exported log groups. */
  readonly databaseLogRetention: logs.RetentionDays;
  /** Retention of the app-user function's logs. */
  readonly logRetention: logs.RetentionDays;
}

/** Resolves and validates the data tier's inputs, in the order a user reads the props. */
export function resolveDataInputs(scope: Construct, props: DataTierProps): DataInputs {
  const preset = (props.preset ?? Preset.dev()).values;
  const version = engineVersionOf(scope, props.engineVersion ?? DEFAULT_ENGINE_VERSION);
  const engine = rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(version.full, version.major) });
  const names = resolveNames(scope, props);
  const storage = resolveStorage(scope, props, preset);
  const backupRetention = checkDays(scope, propOrPreset('backupRetention', props.backupRetention, preset, 'backupRetention'), 1, 35);
  const rotation = (props.rotation ?? true) ? rotationScheduleOf(scope, props.rotationInterval ?? Duration.days(30)) : undefined;
  const monitoringInterval = monitoringIntervalOf(scope, propOrPreset('monitoringInterval', props.monitoringInterval, preset, 'monitoringInterval'));
  const instance = instanceTypeOf(scope, propOrPreset('instanceType', props.instanceType, preset, 'databaseInstanceType'));
  const multiAz = propOrPreset('multiAz', props.multiAz, preset, 'multiAz');
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  checkSubnetAzs(scope, props.vpc, vpcSubnets, multiAz.value, multiAz.source);
  const removalPolicy = propOrPreset('removalPolicy', props.removalPolicy, preset, 'databaseRemovalPolicy').value;
  const performanceInsights = performanceInsightsOf(scope, props.performanceInsights, instance);
  const appUser = resolveAppUser(scope, props.appUsername ?? 'app', names.masterUsername, names.databaseName);
  return {
    engine,
    instanceType: instance.instanceType,
    multiAz: multiAz.value,
    vpcSubnets,
    ...names,
    ...appUser,
    ...storage,
    backupRetention,
    rotation,
    monitoringInterval,
    performanceInsights,
    removalPolicy,
    deletionProtection: propOrPreset('deletionProtection', props.deletionProtection, preset, 'databaseDeletionProtection').value,
    backup: resolveBackup(scope, props, preset),
    databaseLogRetention: props.logRetention ?? preset.logRetention ?? logs.RetentionDays.ONE_MONTH,
    logRetention: preset.flowLogRetention,
  };
}

/** The backup plan's rules (the prop over the preset over the `monthlyBackups` shape) and copy vault; undefined when off. */
function resolveBackup(scope: Construct, props: DataTierProps, preset: PresetValues): BackupPlanInputs | undefined {
  if (!propOrPreset('backupPlan', props.backupPlan, preset, 'backupPlan').value) {
    if (props.backupRules !== undefined || props.backupCopyVault !== undefined) {
      invalid(scope, props.backupRules !== undefined ? 'backupRules' : 'backupCopyVault', 'set', 'needs the backup plan: set backupPlan: true (the preset turns it off)');
    }
    return undefined;
  }
  const rules = props.backupRules !== undefined
    ? { value: props.backupRules, source: 'backupRules' }
    : preset.backupRules !== undefined
      ? { value: preset.backupRules, source: 'preset.values.backupRules' }
      : { value: { daily: Duration.days(35), monthly: preset.monthlyBackups ? Duration.days(365) : undefined }, source: 'preset.values.monthlyBackups' };
  return { rules: checkBackupRules(scope, rules.source, rules.value), copyVault: props.backupCopyVault };
}

/** The port, the database name (a literal: the app user's GRANT names it) and the master user name. */
function resolveNames(scope: Construct, props: DataTierProps): { port: number; databaseName: string; masterUsername: string } {
  const port = resolveNumber(scope, props.port ?? 3306);
  checkIntRange(scope, 'port', port, 1150, 65535);
  const databaseName = checkName(scope, 'databaseName', props.databaseName ?? 'app', /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
    'must start with a letter and hold 1 to 64 letters, digits or underscores');
  if (Token.isUnresolved(databaseName)) {
    invalid(scope, 'databaseName', describeToken(scope, databaseName), "must be a literal (the app user's GRANT statement, rendered at synth, names it)");
  }
  const masterUsername = checkName(scope, 'masterUsername', props.masterUsername ?? 'dbadmin', /^(?!(rdsadmin|root)$)[A-Za-z][A-Za-z0-9_]{0,15}$/i,
    "must start with a letter, hold 1 to 16 letters, digits or underscores, and not be 'root' or 'rdsadmin'");
  return { port, databaseName, masterUsername };
}

/** Initial and maximum storage: 20 to 65536 GiB each, the maximum not below the initial. */
function resolveStorage(scope: Construct, props: DataTierProps, preset: PresetValues): { allocatedStorage: number; maxAllocatedStorage: number } {
  const allocated = propOrPreset('allocatedStorageGiB', props.allocatedStorageGiB, preset, 'allocatedStorageGiB');
  const maxAllocated = propOrPreset('maxAllocatedStorageGiB', props.maxAllocatedStorageGiB, preset, 'maxAllocatedStorageGiB');
  const allocatedStorage = resolveNumber(scope, allocated.value);
  const maxAllocatedStorage = resolveNumber(scope, maxAllocated.value);
  checkIntRange(scope, allocated.source, allocatedStorage, 20, 65536);
  checkIntRange(scope, maxAllocated.source, maxAllocatedStorage, 20, 65536);
  checkOrder(scope, allocated.source, allocatedStorage, maxAllocated.source, maxAllocatedStorage);
  return { allocatedStorage, maxAllocatedStorage };
}

/** RDS subnet groups need 2 AZs even without Multi-AZ. */
function checkSubnetAzs(scope: Construct, vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection, multiAz: boolean, multiAzSource: string): void {
  const azCount = new Set(vpc.selectSubnets(vpcSubnets).availabilityZones).size;
  if (multiAz && azCount < 2) {
    invalid(scope, multiAzSource, multiAz, `needs database subnets in at least 2 AZs (found ${azCount})`);
  }
  if (azCount < 2) {
    invalid(scope, 'vpcSubnets', `${azCount} AZ`, `must span at least 2 AZs: RDS subnet groups need 2 AZs even without Multi-AZ (found ${azCount})`);
  }
}

/** The app user: a literal, valid MySQL user name that is not the master user; its SQL rendered. */
function resolveAppUser(
  scope: Construct, appUsername: string, masterUsername: string, databaseName: string,
): { appUsername: string; appUserStatements: string[] } {
  if (Token.isUnresolved(appUsername)) {
    invalid(scope, 'appUsername', appUsername, 'must be a literal (it is checked and rendered into SQL at synth time)');
  }
  const problem = appUsernameProblem(appUsername);
  if (problem) invalid(scope, 'appUsername', appUsername, problem);
  if (!Token.isUnresolved(masterUsername) && appUsername.toLowerCase() === masterUsername.toLowerCase()) {
    invalid(scope, 'appUsername', appUsername, `must differ from masterUsername ('${masterUsername}'): the API must not connect as the master user`);
  }
  const databaseProblem = databaseNameProblem(databaseName);
  if (databaseProblem) invalid(scope, 'databaseName', databaseName, databaseProblem);
  return { appUsername, appUserStatements: renderAppUserSql({ username: appUsername, databaseName }) };
}
