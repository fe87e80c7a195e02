import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { DEFAULT_ALARM_THRESHOLDS, ResolvedThresholds } from '../preset/alarm-threshold-values';
import { AlarmThresholds } from '../preset/alarm-thresholds';
import { invalid } from '../private/validation';

/* Not exported from the package: how the thresholds in effect are chosen and checked. */

/** The allowed range of each threshold, and whether it must be an integer. */
const RANGES: { readonly [K in keyof ResolvedThresholds]: { min: number; max: number; integer?: boolean } } = {
  loadBalancer5xxPercent: { min: 0.01, max: 100 },
  p99LatencySeconds: { min: 0.01, max: 4000 },
  fleetCpuPercent: { min: 1, max: 100 },
  fleetMemoryPercent: { min: 1, max: 100 },
  fleetDiskPercent: { min: 1, max: 100 },
  databaseCpuPercent: { min: 1, max: 100 },
  databaseFreeStorageGiB: { min: 0.1, max: 65536 },
  databaseFreeableMemoryMiB: { min: 1, max: 4194304 },
  databaseConnections: { min: 1, max: 100000, integer: true },
  wafBlockedRequests: { min: 1, max: 1e9, integer: true },
};

/**
 * The thresholds in effect, field by field: the prop over the preset over the library default.
 * Each value is checked against its range; errors name where it came from
 * (`thresholds.<field>` or `preset.values.alarmThresholds.<field>`).
 */
export function resolveThresholds(scope: IConstruct, preset: AlarmThresholds | undefined, given: AlarmThresholds | undefined): ResolvedThresholds {
  checkObject(scope, 'preset.values.alarmThresholds', preset);
  checkObject(scope, 'thresholds', given);
  const result: Record<string, number> = {};
  for (const field of Object.keys(RANGES) as (keyof ResolvedThresholds)[]) {
    const fromProp = given?.[field];
    const fromPreset = preset?.[field];
    const [value, source] = fromProp !== undefined && fromProp !== null
      ? [fromProp, `thresholds.${field}`]
      : fromPreset !== undefined && fromPreset !== null
        ? [fromPreset, `preset.values.alarmThresholds.${field}`]
        : [DEFAULT_ALARM_THRESHOLDS[field], field];
    checkThreshold(scope, source, value, RANGES[field]);
    result[field] = value;
  }
  return result as ResolvedThresholds;
}

function checkObject(scope: IConstruct, prop: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) invalid(scope, prop, value, 'must be an AlarmThresholds object');
  const unknownField = Object.keys(value).find((k) => !(k in RANGES));
  if (unknownField !== undefined) {
    invalid(scope, `${prop}.${unknownField}`, (value as Record<string, unknown>)[unknownField],
      `is not an AlarmThresholds field (${Object.keys(RANGES).join(', ')})`);
  }
}

function checkThreshold(scope: IConstruct, source: string, value: unknown, range: { min: number; max: number; integer?: boolean }): void {
  if (typeof value === 'number' && Token.isUnresolved(value)) return;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= range.min && value <= range.max
    && (!range.integer || Number.isInteger(value));
  if (!ok) invalid(scope, source, value, `must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`);
}
