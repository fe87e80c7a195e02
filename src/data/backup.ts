import { Annotations, Duration, Names, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { BackupRules } from './options/backup-rules';
import { acknowledge } from '../private/compliance';
import { invalid } from '../private/validation';

/** The tag key that puts a resource into the data tier's backup selection. */
export const BACKUP_TAG_KEY = 'cdk-three-tier:backup';

/** What `createBackupPlan` makes. */
export interface BackupParts {
  readonly plan: backup.BackupPlan;
  readonly vault: backup.BackupVault;
  /** The value of `BACKUP_TAG_KEY` the selection matches. */
  readonly tagValue: string;
}

/** What the backup plan is built from. */
export interface BackupPlanInputs {
  readonly rules: BackupRules;
  /** Where every recovery point is also copied (a vault in another region), if anywhere. */
  readonly copyVault?: backup.IBackupVault;
}

const RULES: { name: string; field: keyof BackupRules; schedule: events.CronOptions }[] = [
  { name: 'Daily', field: 'daily', schedule: { hour: '5', minute: '0' } },
  { name: 'Weekly', field: 'weekly', schedule: { hour: '5', minute: '0', weekDay: 'SAT' } },
  { name: 'Monthly', field: 'monthly', schedule: { day: '1', hour: '5', minute: '0' } },
];

/**
 * Checks the backup rules (each retention whole days from 1 to 36500, at least one rule) and
 * returns them. `source` is the name of the input they came from.
 */
export function checkBackupRules(scope: Construct, source: string, rules: BackupRules): BackupRules {
  if (typeof rules !== 'object' || rules === null) invalid(scope, source, rules, 'must be an object with daily, weekly and/or monthly retentions');
  for (const { field } of RULES) {
    const retention = rules[field];
    if (retention === undefined) continue;
    const days = retention.toDays({ integral: false });
    if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < 1 || days > 36500)) {
      invalid(scope, `${source}.${field}`, `${days} days`, 'must be whole days from 1 to 36500');
    }
  }
  if (!RULES.some(({ field }) => rules[field] !== undefined)) {
    invalid(scope, source, '{}', 'must set at least one of daily, weekly, monthly while the backup plan is on (or turn backupPlan off)');
  }
  return rules;
}

/**
 * An AWS Backup plan on top of RDS automated backups: the daily, weekly and monthly rules given, in
 * a vault encrypted with `key`, optionally copied to `copyVault`. The selection is by tag: the
 * database carries `BACKUP_TAG_KEY`, and every other resource tagged the same way is backed up too.
 */
export function createBackupPlan(scope: Construct, database: rds.DatabaseInstance, key: kms.IKey, inputs: BackupPlanInputs): BackupParts {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: key,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  warnSameRegionCopy(scope, inputs.copyVault);
  const plan = new backup.BackupPlan(scope, 'BackupPlan', {
    backupVault: vault,
    backupPlanRules: RULES.filter(({ field }) => inputs.rules[field] !== undefined).map(({ name, field, schedule }) => {
      const deleteAfter: Duration = inputs.rules[field]!;
      return new backup.BackupPlanRule({
        ruleName: name,
        scheduleExpression: events.Schedule.cron(schedule),
        deleteAfter,
        copyActions: inputs.copyVault ? [{ destinationBackupVault: inputs.copyVault, deleteAfter }] : undefined,
      });
    }),
  });
  const tagValue = Names.uniqueId(scope);
  Tags.of(database.node.defaultChild!).add(BACKUP_TAG_KEY, tagValue);
  // The database by ARN (the selection of earlier releases, unchanged), and everything carrying the
  // tag (the database too, and whatever users tag) in a second selection with the same role: AWS
  // Backup ANDs ARNs with tag conditions inside one selection, so they cannot share one.
  const selection = plan.addSelection('Selection', {
    resources: [backup.BackupResource.fromRdsDatabaseInstance(database)],
  });
  const tagSelection = plan.addSelection('TagSelection', {
    resources: [backup.BackupResource.fromTag(BACKUP_TAG_KEY, tagValue)],
    role: selection.node.findChild('Role') as iam.IRole,
  });
  acknowledge(selection, 'awsManagedBackupPolicy');
  acknowledge(tagSelection, 'awsManagedBackupPolicy');
  return { plan, vault, tagValue };
}

/** A copy into a vault of the same region protects against less than one elsewhere: say so. */
function warnSameRegionCopy(scope: Construct, copyVault?: backup.IBackupVault): void {
  if (!copyVault) return;
  const here = Stack.of(scope).region;
  const there = copyVault.env.region;
  if (!Token.isUnresolved(here) && !Token.isUnresolved(there) && here === there) {
    Annotations.of(scope).addWarningV2('cdk-three-tier:backupCopySameRegion',
      `backupCopyVault is in this stack's region (${here}): the copy does not survive a regional outage; use a vault in another region`);
  }
}
