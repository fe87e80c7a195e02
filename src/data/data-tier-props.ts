import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { BackupRules } from './options/backup-rules';
import { Preset } from '../preset/preset';

/**
 * What a user sets on the data tier (directly, or as `data` of the platform): every option that is
 * not wiring between the tiers.
 */
export interface DataTierOptions {
  /**
   * Full MySQL engine version, `8.0.x` or `8.4.x` (a major version alone such as `8.0` fails RDS
   * and cfn-lint validation).
   *
   * @default '8.4.7'
   */
  readonly engineVersion?: string;

  /**
   * Instance type of the database.
   *
   * @default - from the preset (dev db.t4g.micro, staging db.t4g.medium, prod db.r7g.large)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Multi-AZ deployment (a standby in a second AZ).
   *
   * @default - from the preset (dev false, staging and prod true)
   */
  readonly multiAz?: boolean;

  /**
   * Initial storage in GiB (20 to 65536).
   *
   * @default - from the preset (dev 20, staging 20, prod 100)
   */
  readonly allocatedStorageGiB?: number;

  /**
   * Storage autoscaling ceiling in GiB (at least `allocatedStorageGiB`, at most 65536).
   *
   * @default - from the preset (dev 50, staging 100, prod 1000)
   */
  readonly maxAllocatedStorageGiB?: number;

  /**
   * Automated backup retention (1 to 35 days).
   *
   * @default - from the preset (dev 1 day, staging 7 days, prod 30 days)
   */
  readonly backupRetention?: Duration;

  /**
   * Deletion protection.
   *
   * @default - from the preset (prod true, otherwise false)
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the database when it leaves the stack. With SNAPSHOT or RETAIN the storage key
   * is retained too, so the snapshot stays readable.
   *
   * @default - from the preset (dev DESTROY, staging and prod SNAPSHOT)
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Name of the database created in the instance (letters, digits, underscores; starts with a letter; at most 64).
   *
   * @default 'app'
   */
  readonly databaseName?: string;

  /**
   * Master user name (letters, digits, underscores; starts with a letter; at most 16).
   *
   * @default 'dbadmin'
   */
  readonly masterUsername?: string;

  /**
   * Name of the database user the API connects as, with IAM database authentication. A custom
   * resource creates it at deploy time (with the master credentials) and grants it the privileges of
   * `AppUserSql.PRIVILEGES` on `databaseName` only. A letter, then up to 31 letters, digits or
   * underscores; not the master user name, `root`, or a name starting with `rds` or `mysql`.
   *
   * @default 'app'
   */
  readonly appUsername?: string;

  /**
   * Database port (1150 to 65535).
   *
   * @default 3306
   */
  readonly port?: number;

  /**
   * Rotate the master password with a Secrets Manager rotation function.
   *
   * @default true
   */
  readonly rotation?: boolean;

  /**
   * How often the master password is rotated (1 to 365 days).
   *
   * @default Duration.days(30)
   */
  readonly rotationInterval?: Duration;

  /**
   * Enhanced monitoring interval: 0 (off), 1, 5, 10, 15, 30 or 60 seconds.
   *
   * @default - from the preset (dev and staging 60 s, prod 30 s)
   */
  readonly monitoringInterval?: Duration;

  /**
   * Performance Insights (encrypted with the tier's key).
   *
   * @default - on where the instance class supports it (not on micro and small)
   */
  readonly performanceInsights?: boolean;

  /**
   * Back the database up with an AWS Backup plan (a vault encrypted with the tier's key), on top of
   * RDS automated backups.
   *
   * @default - from the preset (dev false; staging and prod true)
   */
  readonly backupPlan?: boolean;

  /**
   * The daily, weekly and monthly rules of the AWS Backup plan (how long each keeps its backups).
   * The plan selects resources by tag: the database carries the tag `cdk-three-tier:backup` with
   * the value `DataTier.backupTagValue`; tag resources of your own the same way to back them up too.
   *
   * @default - from the preset (staging daily 7 days and weekly 35 days; prod daily 35 days, weekly
   * 84 days and monthly 365 days; a custom preset without `backupRules`: daily 35 days, plus monthly
   * 365 days with `monthlyBackups`)
   */
  readonly backupRules?: BackupRules;

  /**
   * A backup vault every recovery point is also copied to, kept as long as the original: a vault in
   * another region survives a regional outage. AWS Backup copies need the destination vault's ARN,
   * and the vault must exist before the first copy: create it in a stack of that region
   * (`new backup.BackupVault(drStack, 'DrVault', { backupVaultName: 'shop-dr' })`) and pass
   * `backup.BackupVault.fromBackupVaultArn(this, 'Dr', 'arn:aws:backup:us-west-2:111122223333:backup-vault:shop-dr')`.
   * Its key (a customer managed key of that region) must let this account's AWS Backup role use it.
   *
   * @default - no copy
   */
  readonly backupCopyVault?: backup.IBackupVault;

  /**
   * Retention of the log groups the database exports to (error, general, slow query, audit).
   *
   * @default - from the preset's `logRetention` (dev one week, staging one month, prod one year)
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Props of the data tier: its options and the wiring (the VPC and subnets, the preset, and how the
 * rotation and app-user functions reach Secrets Manager).
 */
export interface DataTierProps extends DataTierOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the database: isolated ones (no route to an internet or NAT gateway).
   *
   * @default - the VPC's isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Preset that fills in every value not given here.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;

  /**
   * Subnets of the rotation function and of the function that creates the app user. They must
   * reach Secrets Manager: through NAT, or through `rotationEndpoint`.
   *
   * @default - the database subnets, with `rotationEndpoint` (created if not given)
   */
  readonly rotationSubnets?: ec2.SubnetSelection;

  /**
   * Secrets Manager interface endpoint the rotation function and the function that creates the app
   * user use. When neither this nor `rotationSubnets` is given, the tier creates one in the database
   * subnets (with private DNS, so it serves the whole VPC: wire other users of Secrets Manager to
   * `secretsManagerEndpoint.connections`).
   *
   * @default - created when `rotationSubnets` is not given
   */
  readonly rotationEndpoint?: ec2.IInterfaceVpcEndpoint;
}
