import { createHash } from 'crypto';
import { CustomResource, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { AppUserFunction } from './app-user-function';
import { renderAppUserSql } from './app-user-sql';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { createLogKey } from '../private/fleet';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { checkTokenDurationUnit, describeToken, isDuration, propOrPreset, resolveDuration, resolveNumber, resolveString, Sourced } from '../private/resolve';
import { appUsernameProblem, databaseNameProblem } from '../private/sql';
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
  /** Name of the database user the API connects as (IAM database authentication). */
  readonly appUsername: string;
  /** The secret with the master credentials (JSON: username, password, host, port, dbname). */
  readonly secret: secretsmanager.ISecret;
  /**
   * Grants reading the master credentials secret (and decrypting it), for operators: the API
   * connects as `appUsername` with IAM database authentication instead.
   */
  grantMasterSecretRead(grantee: iam.IGrantable): iam.Grant;
  /**
   * Grants IAM database authentication (`rds-db:connect`) as `dbUser`.
   *
   * @default - the app user (`appUsername`)
   */
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
  /** The Secrets Manager endpoint the tier created for the rotation and app-user functions, if any. */
  public readonly secretsManagerEndpoint?: ec2.InterfaceVpcEndpoint;
  /** The AWS Backup plan, if on. */
  public readonly backupPlan?: backup.BackupPlan;
  /** The AWS Backup vault, if the plan is on. */
  public readonly backupVault?: backup.BackupVault;
  /** The rotation schedule, if rotation is on. */
  public readonly rotation?: secretsmanager.SecretRotation;
  /** The rotation function's security group, if rotation is on (it needs HTTPS to Secrets Manager). */
  public readonly rotationSecurityGroup?: ec2.ISecurityGroup;
  /** Host name of the database endpoint. */
  public readonly endpointAddress: string;
  /** Database port. */
  public readonly port: number;
  /** Name of the database created in the instance. */
  public readonly databaseName: string;
  /** Name of the database user the API connects as (IAM database authentication). */
  public readonly appUsername: string;
  /** The custom resource that creates the app user (after the database is available). */
  public readonly appUserResource: CustomResource;
  /** The function that creates the app user (behind the custom resource's provider). */
  public readonly appUserFunction: lambda.IFunction;
  /** Whether Performance Insights is on. */
  public readonly performanceInsightsEnabled: boolean;
  /** Connections of the database (default port: the database port). */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: DataTierProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    const version = engineVersionOf(this, props.engineVersion ?? DataTier.DEFAULT_ENGINE_VERSION);
    const engine = rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(version.full, version.major) });

    // Token inputs: resolved where the stack can (a literal is checked as such), else passed on
    // unchanged for CloudFormation to validate.
    this.port = resolveNumber(this, props.port ?? 3306);
    checkIntRange(this, 'port', this.port, 1150, 65535);
    this.databaseName = checkName(this, 'databaseName', props.databaseName ?? 'app', /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
      'must start with a letter and hold 1 to 64 letters, digits or underscores');
    if (Token.isUnresolved(this.databaseName)) {
      invalid(this, 'databaseName', describeToken(this, this.databaseName), "must be a literal (the app user's GRANT statement, rendered at synth, names it)");
    }
    const username = checkName(this, 'masterUsername', props.masterUsername ?? 'dbadmin', /^(?!(rdsadmin|root)$)[A-Za-z][A-Za-z0-9_]{0,15}$/i,
      "must start with a letter, hold 1 to 16 letters, digits or underscores, and not be 'root' or 'rdsadmin'");
    const allocatedStorage = propOrPreset('allocatedStorageGiB', props.allocatedStorageGiB, preset, 'allocatedStorageGiB');
    const maxAllocatedStorage = propOrPreset('maxAllocatedStorageGiB', props.maxAllocatedStorageGiB, preset, 'maxAllocatedStorageGiB');
    const allocated = resolveNumber(this, allocatedStorage.value);
    const maxAllocated = resolveNumber(this, maxAllocatedStorage.value);
    checkIntRange(this, allocatedStorage.source, allocated, 20, 65536);
    checkIntRange(this, maxAllocatedStorage.source, maxAllocated, 20, 65536);
    checkOrder(this, allocatedStorage.source, allocated, maxAllocatedStorage.source, maxAllocated);
    const backupRetention = checkDays(this, propOrPreset('backupRetention', props.backupRetention, preset, 'backupRetention'), 1, 35);
    const rotationOn = props.rotation ?? true;
    const rotationSchedule = rotationOn ? rotationScheduleOf(this, props.rotationInterval ?? Duration.days(30)) : undefined;
    const rotationInterval = rotationSchedule?.automaticallyAfter;
    const monitoringInterval = monitoringIntervalOf(this, propOrPreset('monitoringInterval', props.monitoringInterval, preset, 'monitoringInterval'));
    const instance = instanceTypeOf(this, propOrPreset('instanceType', props.instanceType, preset, 'databaseInstanceType'));
    const instanceType = instance.instanceType;
    const multiAzInput = propOrPreset('multiAz', props.multiAz, preset, 'multiAz');
    const multiAz = multiAzInput.value;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const azCount = new Set(props.vpc.selectSubnets(vpcSubnets).availabilityZones).size;
    if (multiAz && azCount < 2) {
      invalid(this, multiAzInput.source, multiAz, `needs database subnets in at least 2 AZs (found ${azCount})`);
    }
    if (azCount < 2) {
      invalid(this, 'vpcSubnets', `${azCount} AZ`, `must span at least 2 AZs: RDS subnet groups need 2 AZs even without Multi-AZ (found ${azCount})`);
    }
    const removalPolicy = props.removalPolicy ?? preset.databaseRemovalPolicy;
    this.performanceInsightsEnabled = performanceInsightsOf(this, props.performanceInsights, instance);

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
      monitoringInterval,
      enablePerformanceInsights: this.performanceInsightsEnabled,
      performanceInsightEncryptionKey: this.performanceInsightsEnabled ? this.encryptionKey : undefined,
    });
    acknowledge(this.database, 'defaultDatabasePort');
    if (!(props.deletionProtection ?? preset.databaseDeletionProtection)) acknowledge(this.database, 'noDeletionProtection');
    if (!multiAz) acknowledge(this.database, 'singleAzDatabase');
    if (monitoringInterval) acknowledge(this.database, 'awsManagedMonitoringPolicy');
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

    // The rotation function and the app-user function reach Secrets Manager through an endpoint in
    // the database subnets (created unless one is given), or through NAT from `rotationSubnets`.
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
    const functionSubnets = props.rotationSubnets ?? vpcSubnets;

    if (rotationOn) {
      const rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: props.vpc,
        description: 'Data tier credential rotation function',
        allowAllOutbound: false,
      });
      this.rotationSecurityGroup = rotationSecurityGroup;
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
        vpcSubnets: functionSubnets,
        endpoint,
        securityGroup: rotationSecurityGroup,
        automaticallyAfter: rotationInterval,
        excludeCharacters: EXCLUDE_CHARACTERS,
      });
      if (rotationSchedule?.tokenRate) setRotationRate(this.secret, rotationSchedule.tokenRate);
    }

    this.appUsername = props.appUsername ?? 'app';
    const appUser = this.createAppUser(props.vpc, functionSubnets, endpoint, username, preset.flowLogRetention);
    this.appUserResource = appUser.resource;
    this.appUserFunction = appUser.handler;

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

  /**
   * Grants reading the master credentials secret (and decrypting it with the tier's key), for
   * operators: the API connects as `appUsername` with IAM database authentication instead.
   */
  public grantMasterSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /**
   * Grants reading the master credentials secret.
   *
   * @deprecated use `grantMasterSecretRead` (operators) or `grantConnect` (the API)
   */
  public grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantMasterSecretRead(grantee);
  }

  /**
   * Grants IAM database authentication (`rds-db:connect`) as `dbUser`.
   *
   * @default - the app user (`appUsername`)
   */
  public grantConnect(grantee: iam.IGrantable, dbUser?: string): iam.Grant {
    return this.database.grantConnect(grantee, dbUser ?? this.appUsername);
  }

  /**
   * The app user: a custom resource whose handler, in `subnets` with its own security group (egress
   * only to the database port and to Secrets Manager on 443), reads the master secret and creates the
   * user with `renderAppUserSql`, after the database (and the rotation schedule) exist.
   */
  private createAppUser(
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    endpoint: ec2.IInterfaceVpcEndpoint | undefined,
    masterUsername: string,
    logRetention: logs.RetentionDays,
  ): AppUserParts {
    const username = this.appUsername;
    if (Token.isUnresolved(username)) {
      invalid(this, 'appUsername', username, 'must be a literal (it is checked and rendered into SQL at synth time)');
    }
    const problem = appUsernameProblem(username);
    if (problem) invalid(this, 'appUsername', username, problem);
    if (!Token.isUnresolved(masterUsername) && username.toLowerCase() === masterUsername.toLowerCase()) {
      invalid(this, 'appUsername', username, `must differ from masterUsername ('${masterUsername}'): the API must not connect as the master user`);
    }
    const databaseProblem = databaseNameProblem(this.databaseName);
    if (databaseProblem) invalid(this, 'databaseName', this.databaseName, databaseProblem);
    const statements = renderAppUserSql({ username, databaseName: this.databaseName });

    const securityGroup = new ec2.SecurityGroup(this, 'AppUserSecurityGroup', {
      vpc,
      description: 'Data tier app-user function',
      allowAllOutbound: false,
    });
    this.connections.allowDefaultPortFrom(securityGroup, 'App-user function to database');
    if (endpoint) {
      endpoint.connections.allowDefaultPortFrom(securityGroup, 'App-user function to Secrets Manager endpoint');
    } else {
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Secrets Manager through NAT');
    }

    // One encrypted log group with a retention for the handler and the provider framework.
    const logGroup = new logs.LogGroup(this, 'AppUserLogGroup', {
      retention: logRetention,
      encryptionKey: createLogKey(this, 'AppUserLogKey', 'the logs of the app-user function'),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const handlerRole = new ManagedPolicyRole(this, 'AppUserFunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Creates the app user of ${this.node.path} with the master credentials`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
    });
    acknowledge(handlerRole, 'awsManagedLambdaPolicy');
    const handler = new AppUserFunction(this, 'AppUserFunction', {
      description: `Creates the database user the API connects as (${this.node.path})`,
      role: handlerRole,
      vpc,
      vpcSubnets: subnets,
      securityGroups: [securityGroup],
      timeout: Duration.minutes(3),
      memorySize: 256,
      logGroup,
    });
    this.secret.grantRead(handler);
    acknowledge(handler, 'appUserFunction');

    const providerRole = new ManagedPolicyRole(this, 'AppUserProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the custom resource provider of the app user of ${this.node.path}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
    });
    acknowledge(providerRole, 'awsManagedLambdaPolicy');
    const provider = new cr.Provider(this, 'AppUserProvider', {
      onEventHandler: handler,
      frameworkOnEventRole: providerRole,
      logGroup,
    });
    acknowledge(provider, 'customResourceProvider');
    const handlerResource = handler.node.defaultChild as lambda.CfnFunction;
    acknowledge(providerRole, 'providerInvokesFunctionVersions',
      [`AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(handlerResource)}.Arn>:*]`]);

    const resource = new CustomResource(this, 'AppUser', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::AppUser',
      properties: {
        SecretArn: this.secret.secretArn,
        Host: this.endpointAddress,
        Port: String(this.port),
        DatabaseName: this.databaseName,
        Username: username,
        // A new library version that renders different SQL runs it again on the next deployment.
        SqlDigest: createHash('sha256').update(statements.join(';\n')).digest('hex'),
      },
    });
    resource.node.addDependency(this.database);
    if (this.rotation) resource.node.addDependency(this.rotation);
    return { resource, handler };
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

/** The app-user custom resource and its handler. */
interface AppUserParts {
  readonly resource: CustomResource;
  readonly handler: lambda.IFunction;
}

/**
 * Validates a duration of whole days in [min, max] and returns the duration to pass on: a literal
 * (a resolvable token becomes one), or a token amount of days, for CloudFormation to validate.
 */
function checkDays(scope: Construct, input: Sourced<Duration>, min: number, max: number): Duration {
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
interface RotationSchedule {
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
function rotationScheduleOf(scope: Construct, interval: Duration): RotationSchedule {
  const value = checkDays(scope, { value: interval, source: 'rotationInterval' }, 1, 365);
  return value.isUnresolved() ? { tokenRate: events.Schedule.rate(value).expressionString } : { automaticallyAfter: value };
}

/** Writes a schedule expression into the rotation schedule aws-cdk-lib made for the secret. */
function setRotationRate(secret: secretsmanager.ISecret, rate: string): void {
  const schedule = secret.node.findChild('RotationSchedule').node.defaultChild as secretsmanager.CfnRotationSchedule;
  schedule.rotationRules = { scheduleExpression: rate };
}

/**
 * The enhanced monitoring interval to pass on: undefined when it is 0 (off), else the interval (a
 * literal of 1, 5, 10, 15, 30 or 60 seconds, or a token amount of seconds for CloudFormation to
 * validate: a token turns monitoring and its role on).
 */
function monitoringIntervalOf(scope: Construct, input: Sourced<Duration>): Duration | undefined {
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
interface DatabaseInstanceType {
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
function instanceTypeOf(scope: Construct, input: Sourced<ec2.InstanceType>): DatabaseInstanceType {
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
function performanceInsightsOf(scope: Construct, requested: boolean | undefined, instance: DatabaseInstanceType): boolean {
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
function checkName(scope: Construct, prop: string, value: string, pattern: RegExp, allowed: string): string {
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
function engineVersionOf(scope: Construct, value: string): { full: string; major: string } {
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
