import { AlarmThresholds } from './alarm-thresholds';

export type { AlarmThresholds };

/* Not exported from the package: the alarm thresholds of each preset and the library default. */

/** Every threshold, set. */
export type ResolvedThresholds = { readonly [K in keyof AlarmThresholds]-?: number };

/** The thresholds of each built-in preset. */
export const PRESET_ALARM_THRESHOLDS: Readonly<Record<'dev' | 'staging' | 'prod', ResolvedThresholds>> = {
  dev: {
    loadBalancer5xxPercent: 5,
    p99LatencySeconds: 3,
    fleetCpuPercent: 90,
    fleetMemoryPercent: 90,
    fleetDiskPercent: 90,
    databaseCpuPercent: 90,
    databaseFreeStorageGiB: 2,
    databaseFreeableMemoryMiB: 64,
    databaseConnections: 60,
    wafBlockedRequests: 100,
  },
  staging: {
    loadBalancer5xxPercent: 2,
    p99LatencySeconds: 2,
    fleetCpuPercent: 85,
    fleetMemoryPercent: 85,
    fleetDiskPercent: 85,
    databaseCpuPercent: 85,
    databaseFreeStorageGiB: 5,
    databaseFreeableMemoryMiB: 256,
    databaseConnections: 270,
    wafBlockedRequests: 200,
  },
  prod: {
    loadBalancer5xxPercent: 1,
    p99LatencySeconds: 1.5,
    fleetCpuPercent: 80,
    fleetMemoryPercent: 80,
    fleetDiskPercent: 80,
    databaseCpuPercent: 80,
    databaseFreeStorageGiB: 20,
    databaseFreeableMemoryMiB: 1024,
    databaseConnections: 1000,
    wafBlockedRequests: 500,
  },
};

/** The library default, for a custom preset without `alarmThresholds`: the staging values. */
export const DEFAULT_ALARM_THRESHOLDS: ResolvedThresholds = PRESET_ALARM_THRESHOLDS.staging;

/** The thresholds as one line for the README's defaults table (`renderDefaultsTable`). */
export function describeThresholds(thresholds: AlarmThresholds | undefined): string {
  const t = { ...DEFAULT_ALARM_THRESHOLDS, ...thresholds };
  return [
    `5xx ${t.loadBalancer5xxPercent}%`, `p99 ${t.p99LatencySeconds} s`,
    `fleet CPU/memory/disk ${t.fleetCpuPercent}/${t.fleetMemoryPercent}/${t.fleetDiskPercent}%`,
    `DB CPU ${t.databaseCpuPercent}%`, `DB free storage ${t.databaseFreeStorageGiB} GiB`,
    `DB freeable memory ${t.databaseFreeableMemoryMiB} MiB`, `DB connections ${t.databaseConnections}`,
    `WAF blocked ${t.wafBlockedRequests}/5 min`,
  ].join(', ');
}
