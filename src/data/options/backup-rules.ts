import { Duration } from 'aws-cdk-lib';

/**
 * The rules of the data tier's AWS Backup plan: for each of the daily, weekly and monthly rules, how
 * long its recovery points are kept. A rule left out is not created.
 *
 * Every rule starts at 05:00 UTC (AWS Backup's default window, 8 hours to complete): daily rules
 * every day, weekly rules on Saturdays, monthly rules on the first of the month.
 */
export interface BackupRules {
  /**
   * How long daily backups are kept (whole days, 1 to 36500).
   *
   * @default - no daily rule
   */
  readonly daily?: Duration;

  /**
   * How long weekly backups (Saturdays) are kept (whole days, 1 to 36500).
   *
   * @default - no weekly rule
   */
  readonly weekly?: Duration;

  /**
   * How long monthly backups (the first of the month) are kept (whole days, 1 to 36500).
   *
   * @default - no monthly rule
   */
  readonly monthly?: Duration;
}
