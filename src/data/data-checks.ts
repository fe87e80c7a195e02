import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { checkTokenDurationUnit, describeToken, isDuration, resolveDuration, resolveString, Sourced } from '../private/resolve';
import { invalid } from '../private/validation';

/**
 * Checks of single data tier inputs: each takes the value and the name of the input it came from,
 * and returns the value to pass on.
 */

/** Enhanced monitoring intervals RDS accepts, in seconds (0 turns it off). */
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];

/**
 * Validates a duration of whole days in [min, max] and returns the duration to pass on: a literal
 * (a resolvable token becomes one), or a token amount of days, for CloudFormation to validate.
 */
export function checkDays(scope: Construct, input: Sourced<Duration>, min: number, max: number): Duration {
  const value = resolveDuration(scope, checkDuration(scope, input));
  if (value.isUnresolved()) {
    checkTokenDurationUnit(scope, input.source, value, 'days');
    return value;
  }
  const days = value.toHours({ integral: false }) / 24;
  if (!Number.isInteger(days) || days < min || days > max) {
    invalid(scope, input.source, value.toHumanString(), `must be a whole number of days from ${min} to ${max}`);
  }
  return value;
}

/** Fails unless the value is a `Duration` (plain JavaScript callers can pass anything). */
function checkDuration(scope: Construct, input: Sourced<Duration>): Duration {
  if (!isDuration(input.value)) invalid(scope, input.source, input.value, 'must be a Duration, e.g. Duration.days(7)');
  return input.value;
}

/** How the rotation schedule gets its interval. */
export interface RotationSchedule {
  /** The interval for aws-cdk-lib's rotation schedule; undefined when the tier writes `tokenRate`. */
  readonly automaticallyAfter?: Duration;
  /** `rate(<token> days)` for an interval whose amount is a token. */
  readonly tokenRate?: string;
}

/**
 * The rotation interval: 1 to 365 days. aws-cdk-lib's rotation schedule converts the interval to
 * milliseconds at synth, which a token amount cannot be: such an interval is written into the
 * schedule expression by the tier (`setRotationRate`), unchanged, for Secrets Manager to validate.
 */
export function rotationScheduleOf(scope: Construct, interval: Duration): RotationSchedule {
  const value = checkDays(scope, { value: interval, source: 'rotationInterval' }, 1, 365);
  return value.isUnresolved() ? { tokenRate: events.Schedule.rate(value).expressionString } : { automaticallyAfter: value };
}

/**
 * The enhanced monitoring interval to pass on: undefined when it is 0 (off), else the interval (a
 * literal of 1, 5, 10, 15, 30 or 60 seconds, or a token amount of seconds for CloudFormation to
 * validate: a token turns monitoring and its role on).
 */
export function monitoringIntervalOf(scope: Construct, input: Sourced<Duration>): Duration | undefined {
  const value = resolveDuration(scope, checkDuration(scope, input));
  if (value.isUnresolved()) {
    checkTokenDurationUnit(scope, input.source, value, 'seconds');
    return value;
  }
  const seconds = value.toSeconds({ integral: false });
  if (!MONITORING_INTERVALS.includes(seconds)) {
    invalid(scope, input.source, `${seconds} seconds`, `must be one of ${MONITORING_INTERVALS.join(', ')} seconds`);
  }
  return seconds > 0 ? value : undefined;
}

/** A database instance type, normalized, with its size when it is known at synth. */
export interface DatabaseInstanceType {
  /** The instance type without `db.` (aws-cdk-lib's RDS constructs add it). */
  readonly instanceType: ec2.InstanceType;
  /** The size (`micro`, `large`, ...); undefined when the type is a token. */
  readonly size?: string;
  /** The input the type came from. */
  readonly source: string;
}

/** An instance type: family letters, generation digits, capability letters, '.', size. */
const INSTANCE_TYPE = /^([a-z]+)(\d{1,2})([a-z-]*)\.([a-z0-9-]+)$/;

/**
 * The database instance type: `db.t4g.micro` and `t4g.micro` both mean the same class (aws-cdk-lib
 * writes `db.` + the type, so a leading `db.` is dropped). A token is passed on unchanged.
 */
export function instanceTypeOf(scope: Construct, input: Sourced<ec2.InstanceType>): DatabaseInstanceType {
  if (input.value === undefined || input.value === null) invalid(scope, input.source, input.value, 'must be an ec2.InstanceType, e.g. new ec2.InstanceType(\'t4g.medium\')');
  const identifier = resolveString(scope, String(input.value));
  if (Token.isUnresolved(identifier)) return { instanceType: input.value, source: input.source };
  const normalized = identifier.replace(/^db\./, '');
  const m = INSTANCE_TYPE.exec(normalized);
  if (!m) {
    invalid(scope, input.source, identifier,
      "must be an instance class and size such as 't4g.medium' or 'db.t4g.medium' (family letters, generation digits, capability letters, '.', size)");
  }
  const instanceType = normalized === String(input.value) ? input.value : new ec2.InstanceType(normalized);
  return { instanceType, size: m[4], source: input.source };
}

/** Sizes without Performance Insights. */
const SIZES_WITHOUT_PERFORMANCE_INSIGHTS = ['nano', 'micro', 'small'];

/**
 * Whether Performance Insights is on: as requested, where the instance class supports it; by
 * default wherever it does. With a token instance type the class is not known at synth, so the
 * choice must be explicit.
 */
export function performanceInsightsOf(scope: Construct, requested: boolean | undefined, instance: DatabaseInstanceType): boolean {
  if (instance.size === undefined) {
    if (requested === undefined) {
      invalid(scope, instance.source, describeToken(scope, instance.instanceType.toString()),
        'is a token, so set performanceInsights to true or false: whether the class supports Performance Insights is not known at synth');
    }
    return requested;
  }
  const supported = !SIZES_WITHOUT_PERFORMANCE_INSIGHTS.includes(instance.size);
  if (requested && !supported) {
    invalid(scope, 'performanceInsights', true, `is not supported on ${instance.instanceType} (use a medium or larger class)`);
  }
  return requested ?? supported;
}

/** A database or user name: a literal matching `pattern` (a resolvable token is checked as its literal); other tokens pass. */
export function checkName(scope: Construct, prop: string, value: string, pattern: RegExp, allowed: string): string {
  if (typeof value !== 'string') invalid(scope, prop, value, 'must be a string');
  const resolved = resolveString(scope, value);
  if (!Token.isUnresolved(resolved) && !pattern.test(resolved)) invalid(scope, prop, resolved, allowed);
  return resolved;
}

let mysqlVersions: string[] | undefined;
/** The MySQL 8.0.x and 8.4.x versions aws-cdk-lib's `rds.MysqlEngineVersion` lists, newest first. */
function knownMysqlVersions(): string[] {
  if (!mysqlVersions) {
    const rank = (v: string) => v.split('.').map(Number);
    mysqlVersions = Object.getOwnPropertyNames(rds.MysqlEngineVersion)
      .map((name) => (rds.MysqlEngineVersion as unknown as Record<string, unknown>)[name])
      .filter((v): v is rds.MysqlEngineVersion => v instanceof rds.MysqlEngineVersion)
      .map((v) => v.mysqlFullVersion)
      .filter((v) => /^8\.[04]\.\d+$/.test(v))
      .sort((a, b) => {
        const [x, y] = [rank(a), rank(b)];
        return y[1] - x[1] || y[2] - x[2];
      });
  }
  return mysqlVersions;
}

/**
 * The engine version: a MySQL 8.0.x or 8.4.x version that aws-cdk-lib knows. It selects the
 * parameter and option group family (`mysql8.4`), so it must be known at synth.
 */
export function engineVersionOf(scope: Construct, value: string): { full: string; major: string } {
  if (typeof value !== 'string') invalid(scope, 'engineVersion', value, "must be a string such as '8.4.7'");
  const version = resolveString(scope, value);
  if (Token.isUnresolved(version)) {
    invalid(scope, 'engineVersion', describeToken(scope, version), 'must be a literal (it selects the parameter group family)');
  }
  const known = knownMysqlVersions();
  if (!known.includes(version)) {
    const newest = ['8.4', '8.0'].flatMap((major) => known.filter((v) => v.startsWith(`${major}.`)).slice(0, 3));
    invalid(scope, 'engineVersion', version,
      `must be a full MySQL 8.0.x or 8.4.x version that aws-cdk-lib's rds.MysqlEngineVersion lists (newest: ${newest.join(', ')}); a major version alone such as '8.4' fails RDS validation`);
  }
  return { full: version, major: version.split('.').slice(0, 2).join('.') };
}
