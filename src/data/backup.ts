import { RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledge } from '../private/compliance';

/** What `createBackupPlan` makes. */
export interface BackupParts {
  readonly plan: backup.BackupPlan;
  readonly vault: backup.BackupVault;
}

/**
 * An AWS Backup plan for the database, on top of RDS automated backups: daily backups kept 35 days,
 * or (with `monthly`) daily and monthly backups kept a year, in a vault encrypted with `key`.
 */
export function createBackupPlan(scope: Construct, database: rds.DatabaseInstance, key: kms.IKey, monthly: boolean): BackupParts {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: key,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const plan = monthly
    ? backup.BackupPlan.dailyMonthly1YearRetention(scope, 'BackupPlan', vault)
    : backup.BackupPlan.daily35DayRetention(scope, 'BackupPlan', vault);
  const selection = plan.addSelection('Selection', {
    resources: [backup.BackupResource.fromRdsDatabaseInstance(database)],
  });
  acknowledge(selection, 'awsManagedBackupPolicy');
  return { plan, vault };
}
