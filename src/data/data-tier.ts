import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Preset } from '../platform/preset';
import { acknowledge } from '../private/compliance';
import { checkIntRange, checkOrder, invalid } from '../private/validation';

/** Characters left out of generated passwords (the set aws-cdk-lib uses for RDS). */
const EXCLUDE_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\";

/** Enhanced monitoring intervals RDS accepts, in seconds (0 turns it off). */
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];

/**
 * What the data tier offers to the other tiers.
 */
export interface IDataTier extends ec2.IConnectable {
  /** Host name of the database endpoint. */
  readonly endpointAddress: string;
  /** Port of the database (a literal number, so rule checkers can read it). */
  readonly port: number;
  /** Name of the database created in the instance. */
  readonly databaseName: string;
  /** The secret with the master credentials (JSON: username, password, host, port, dbname). */
  readonly secret: secretsmanager.ISecret;
  /** Grants reading the credentials secret (and decrypting it). */
  grantSecretRead(grantee: iam.IGrantable): iam.Grant;
  /** Grants IAM database authentication as `dbUser`. */
  grantConnect(grantee: iam.IGrantable, dbUser?: string): iam.Grant;
}

/**
 * Props of the data tier.
 */
export interface DataTierProps {
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
   * Subnets of the rotation function. They must reach Secrets Manager: through NAT, or through
   * `rotationEndpoint`.
   *
   * @default - the database subnets, with `rotationEndpoint` (created if not given)
   */
  readonly rotationSubnets?: ec2.SubnetSelection;

  /**
   * Secrets Manager interface endpoint the rotation function uses. When neither this nor
   * `rotationSubnets` is given, the tier creates one in the database subnets (with private DNS,
   * so it serves the whole VPC: wire other users of Secrets Manager to
   * `secretsManagerEndpoint.connections`).
   *
   * @default - created when rotation is on and `rotationSubnets` is not given
   */
  readonly rotationEndpoint?: ec2.IInterfaceVpcEndpoint;

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
   * @default - from the preset (dev false; staging and prod true; prod also keeps monthly backups for a year)
   */
  readonly backupPlan?: boolean;
}

/**
 * The data tier: RDS for MySQL in isolated subnets, never publicly accessible, encrypted with a
 * customer managed KMS key, TLS required, credentials in Secrets Manager with rotation, IAM database
 * authentication, log exports, enhanced monitoring and (where supported) Performance Insights.
 */
export class DataTier extends Construct implements IDataTier {
  /** The default MySQL engine version: a full version, as RDS and cfn-lint require. */
  public static readonly DEFAULT_ENGINE_VERSION = '8.4.7';

  /** The database instance. */
  public readonly database: rds.DatabaseInstance;
  /** The master credentials. */
  public readonly secret: secretsmanager.ISecret;
  /** The customer managed key encrypting storage, the secret and Performance Insights. */
  public readonly encryptionKey: kms.Key;
  /** The parameter group (TLS required). */
  public readonly parameterGroup: rds.ParameterGroup;
  /** The option group (MariaDB audit plugin). */
  public readonly optionGroup: rds.OptionGroup;
  /** The database security group. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The Secrets Manager endpoint the tier created for rotation, if any. */
  public readonly secretsManagerEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The AWS Backup plan, if on. */
  public readonly backupPlan?: backup.BackupPlan;
  /** The AWS Backup vault, if the plan is on. */
  public readonly backupVault?: backup.BackupVault;
  /** The rotation schedule, if rotation is on. */
  public readonly rotation?: secretsmanager.SecretRotation;
  /** Host name of the database endpoint. */
  public readonly endpointAddress: string;
  /** Database port. */
  public readonly port: number;
  /** Name of the database created in the instance. */
  public readonly databaseName: string;
  /** Whether Performance Insights is on. */
  public readonly performanceInsightsEnabled: boolean;
  /** Connections of the database (default port: the database port). */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: DataTierProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    const version = props.engineVersion ?? DataTier.DEFAULT_ENGINE_VERSION;
    const m = /^(8\.0|8\.4)\.(\d+)$/.exec(version);
    if (!m) invalid(this, 'engineVersion', version, "must be a full MySQL version 8.0.x or 8.4.x, e.g. '8.4.7' (a major version alone fails RDS validation)");
    const engine = rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(version, m[1]) });

    this.port = props.port ?? 3306;
    checkIntRange(this, 'port', this.port, 1150, 65535);
    this.databaseName = props.databaseName ?? 'app';
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(this.databaseName)) {
      invalid(this, 'databaseName', this.databaseName, 'must start with a letter and hold 1 to 64 letters, digits or underscores');
    }
    const username = props.masterUsername ?? 'dbadmin';
    if (!/^[A-Za-z][A-Za-z0-9_]{0,15}$/.test(username) || ['rdsadmin', 'root'].includes(username.toLowerCase())) {
      invalid(this, 'masterUsername', username, "must start with a letter, hold 1 to 16 letters, digits or underscores, and not be 'root' or 'rdsadmin'");
    }
    const allocated = props.allocatedStorageGiB ?? preset.allocatedStorageGiB;
    const maxAllocated = props.maxAllocatedStorageGiB ?? preset.maxAllocatedStorageGiB;
    checkIntRange(this, 'allocatedStorageGiB', allocated, 20, 65536);
    checkIntRange(this, 'maxAllocatedStorageGiB', maxAllocated, 20, 65536);
    checkOrder(this, 'allocatedStorageGiB', allocated, 'maxAllocatedStorageGiB', maxAllocated);
    const backupRetention = props.backupRetention ?? preset.backupRetention;
    checkDays(this, 'backupRetention', backupRetention, 1, 35);
    const rotationOn = props.rotation ?? true;
    const rotationInterval = props.rotationInterval ?? Duration.days(30);
    if (rotationOn) checkDays(this, 'rotationInterval', rotationInterval, 1, 365);
    const monitoring = props.monitoringInterval ?? preset.monitoringInterval;
    const monitoringSeconds = monitoring.toSeconds();
    if (!MONITORING_INTERVALS.includes(monitoringSeconds)) {
      invalid(this, 'monitoringInterval', `${monitoringSeconds} seconds`, `must be one of ${MONITORING_INTERVALS.join(', ')} seconds`);
    }
    const instanceType = props.instanceType ?? preset.databaseInstanceType;
    const multiAz = props.multiAz ?? preset.multiAz;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const azCount = new Set(props.vpc.selectSubnets(vpcSubnets).availabilityZones).size;
    if (multiAz && azCount < 2) {
      invalid(this, 'multiAz', multiAz, `needs database subnets in at least 2 AZs (found ${azCount})`);
    }
    if (azCount < 2) {
      invalid(this, 'vpcSubnets', `${azCount} AZ`, `must span at least 2 AZs: RDS subnet groups need 2 AZs even without Multi-AZ (found ${azCount})`);
    }
    const removalPolicy = props.removalPolicy ?? preset.databaseRemovalPolicy;
    const supportsPi = !['nano', 'micro', 'small'].includes(instanceType.toString().split('.')[1]);
    if (props.performanceInsights && !supportsPi) {
      invalid(this, 'performanceInsights', true, `is not supported on ${instanceType} (use a medium or larger class)`);
    }
    this.performanceInsightsEnabled = props.performanceInsights ?? supportsPi;

    this.encryptionKey = new kms.Key(this, 'EncryptionKey', {
      description: `Encrypts the database, its credentials and Performance Insights of ${this.node.path}`,
      enableKeyRotation: true,
      // A snapshot (or retained instance) stays readable only while its key exists.
      removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Data tier database',
      allowAllOutbound: false,
    });

    this.parameterGroup = new rds.ParameterGroup(this, 'ParameterGroup', {
      engine,
      description: 'cdk-three-tier: TLS required, slow query log on',
      parameters: {
        require_secure_transport: '1',
        slow_query_log: '1',
        long_query_time: '2',
        log_output: 'FILE',
      },
    });
    this.optionGroup = new rds.OptionGroup(this, 'OptionGroup', {
      engine,
      description: 'cdk-three-tier: MariaDB audit plugin',
      configurations: [{
        name: 'MARIADB_AUDIT_PLUGIN',
        settings: { SERVER_AUDIT_EVENTS: 'CONNECT,QUERY_DDL,QUERY_DCL' },
      }],
    });

    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine,
      instanceType,
      vpc: props.vpc,
      vpcSubnets,
      securityGroups: [this.securityGroup],
      port: this.port,
      multiAz,
      publiclyAccessible: false,
      allocatedStorage: allocated,
      maxAllocatedStorage: maxAllocated,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      storageEncryptionKey: this.encryptionKey,
      credentials: rds.Credentials.fromGeneratedSecret(username, { encryptionKey: this.encryptionKey }),
      databaseName: this.databaseName,
      parameterGroup: this.parameterGroup,
      optionGroup: this.optionGroup,
      cloudwatchLogsExports: ['error', 'general', 'slowquery', 'audit'],
      backupRetention,
      deletionProtection: props.deletionProtection ?? preset.databaseDeletionProtection,
      removalPolicy,
      iamAuthentication: true,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      monitoringInterval: monitoringSeconds > 0 ? monitoring : undefined,
      enablePerformanceInsights: this.performanceInsightsEnabled,
      performanceInsightEncryptionKey: this.performanceInsightsEnabled ? this.encryptionKey : undefined,
    });
    acknowledge(this.database, 'defaultDatabasePort');
    if (!(props.deletionProtection ?? preset.databaseDeletionProtection)) acknowledge(this.database, 'noDeletionProtection');
    if (!multiAz) acknowledge(this.database, 'singleAzDatabase');
    if (monitoringSeconds > 0) acknowledge(this.database, 'awsManagedMonitoringPolicy');
    this.secret = this.database.secret!;
    if (removalPolicy !== RemovalPolicy.DESTROY) {
      // A snapshot or a retained instance is only usable with its master credentials. (The secret
      // aws-cdk-lib generates is the instance's child 'Secret'; `database.secret` is its attachment.)
      const generated = this.database.node.tryFindChild('Secret');
      if (generated instanceof secretsmanager.Secret) generated.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }
    this.endpointAddress = this.database.dbInstanceEndpointAddress;
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });

    if (rotationOn) {
      let endpoint = props.rotationEndpoint;
      if (!endpoint && !props.rotationSubnets) {
        this.secretsManagerEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
          vpc: props.vpc,
          service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
          subnets: vpcSubnets,
          privateDnsEnabled: true,
          open: false,
        });
        endpoint = this.secretsManagerEndpoint;
      }
      const rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: props.vpc,
        description: 'Data tier credential rotation function',
        allowAllOutbound: false,
      });
      if (endpoint) {
        // The rotation function reaches Secrets Manager only through the endpoint (the classic
        // "rotation times out in isolated subnets" pitfall is a missing rule here).
        endpoint.connections.allowDefaultPortFrom(rotationSecurityGroup, 'Rotation function to Secrets Manager endpoint');
      } else {
        rotationSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Secrets Manager through NAT');
      }
      // The target is this tier (literal port) rather than the instance (port token), so the
      // security group rule reads 3306 to rule checkers.
      this.rotation = new secretsmanager.SecretRotation(this.database, 'RotationSingleUser', {
        application: secretsmanager.SecretRotationApplication.MYSQL_ROTATION_SINGLE_USER,
        secret: this.secret,
        target: this,
        vpc: props.vpc,
        vpcSubnets: props.rotationSubnets ?? vpcSubnets,
        endpoint,
        securityGroup: rotationSecurityGroup,
        automaticallyAfter: rotationInterval,
        excludeCharacters: EXCLUDE_CHARACTERS,
      });
    }

    const backupPlanOn = props.backupPlan ?? preset.backupPlan;
    if (backupPlanOn) {
      this.backupVault = new backup.BackupVault(this, 'BackupVault', {
        encryptionKey: this.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.backupPlan = preset.monthlyBackups
        ? backup.BackupPlan.dailyMonthly1YearRetention(this, 'BackupPlan', this.backupVault)
        : backup.BackupPlan.daily35DayRetention(this, 'BackupPlan', this.backupVault);
      const selection = this.backupPlan.addSelection('Selection', {
        resources: [backup.BackupResource.fromRdsDatabaseInstance(this.database)],
      });
      acknowledge(selection, 'awsManagedBackupPolicy');
    } else {
      acknowledge(this.database, 'noBackupPlan');
    }
  }

  /** Grants reading the credentials secret (and decrypting it with the tier's key). */
  public grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /** Grants IAM database authentication as `dbUser`. @default - the master user */
  public grantConnect(grantee: iam.IGrantable, dbUser?: string): iam.Grant {
    return this.database.grantConnect(grantee, dbUser);
  }

  /**
   * CPU utilization of the database instance.
   *
   * @default - average over 5 minutes
   */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.database.metricCPUUtilization({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /**
   * Free storage space of the database instance, in bytes.
   *
   * @default - minimum over 5 minutes
   */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.database.metricFreeStorageSpace({ statistic: 'Minimum', period: Duration.minutes(5), ...props });
  }

  /**
   * Number of open database connections.
   *
   * @default - maximum over 5 minutes
   */
  public metricDatabaseConnections(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.database.metricDatabaseConnections({ statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }
}

function checkDays(scope: Construct, prop: string, value: Duration, min: number, max: number): void {
  if (Token.isUnresolved(value.toMinutes({ integral: false }))) return;
  const days = value.toHours({ integral: false }) / 24;
  if (!Number.isInteger(days) || days < min || days > max) {
    invalid(scope, prop, value.toHumanString(), `must be a whole number of days from ${min} to ${max}`);
  }
}
