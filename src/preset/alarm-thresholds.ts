/**
 * The thresholds of the platform's alarms. Every field is optional: a field not set here comes
 * from the preset (`preset.values.alarmThresholds`), and one the preset does not set from the
 * library default.
 */
export interface AlarmThresholds {
  /**
   * Public load balancer: 5xx responses (its own and its targets') in percent of requests, over 5 minutes.
   *
   * @default - from the preset (dev 5, staging 2, prod 1)
   */
  readonly loadBalancer5xxPercent?: number;
  /**
   * Public load balancer: p99 of the targets' response time, in seconds, over 5 minutes.
   *
   * @default - from the preset (dev 3, staging 2, prod 1.5)
   */
  readonly p99LatencySeconds?: number;
  /**
   * Web and app fleets: average CPU utilization in percent, over 5 minutes.
   *
   * @default - from the preset (dev 90, staging 85, prod 80)
   */
  readonly fleetCpuPercent?: number;
  /**
   * Web and app fleets: average memory used in percent (CloudWatch agent), over 5 minutes.
   *
   * @default - from the preset (dev 90, staging 85, prod 80)
   */
  readonly fleetMemoryPercent?: number;
  /**
   * Web and app fleets: the fullest root disk in percent (CloudWatch agent), over 5 minutes.
   *
   * @default - from the preset (dev 90, staging 85, prod 80)
   */
  readonly fleetDiskPercent?: number;
  /**
   * Database: average CPU utilization in percent, over 5 minutes.
   *
   * @default - from the preset (dev 90, staging 85, prod 80)
   */
  readonly databaseCpuPercent?: number;
  /**
   * Database: free storage space in GiB below which the alarm fires.
   *
   * @default - from the preset (dev 2, staging 5, prod 20)
   */
  readonly databaseFreeStorageGiB?: number;
  /**
   * Database: freeable memory in MiB below which the alarm fires.
   *
   * @default - from the preset (dev 64, staging 256, prod 1024)
   */
  readonly databaseFreeableMemoryMiB?: number;
  /**
   * Database: open connections above which the alarm fires (about 80% of the instance class's
   * `max_connections` in each preset).
   *
   * @default - from the preset (dev 60, staging 270, prod 1000)
   */
  readonly databaseConnections?: number;
  /**
   * Each web ACL: requests blocked in 5 minutes above which the alarm fires (a spike: an attack,
   * or a rule blocking real users).
   *
   * @default - from the preset (dev 100, staging 200, prod 500)
   */
  readonly wafBlockedRequests?: number;
}
