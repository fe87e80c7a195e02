import { CustomResource, Duration } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createAppUser } from './app-user';
import { BACKUP_TAG_KEY, createBackupPlan } from './backup';
import { DEFAULT_ENGINE_VERSION, resolveDataInputs } from './data-inputs';
import { DataTierProps } from './data-tier-props';
import { createDatabase, createEncryptionKey } from './database';
import { createRotation, functionNetwork } from './rotation';
import { acknowledge } from '../private/compliance';

// The tier's props, also reachable from where they were before they had a file of their own.
export * from './data-tier-props';

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
 * The data tier: RDS for MySQL in isolated subnets, never publicly accessible, encrypted with a
 * customer managed KMS key, TLS required, credentials in Secrets Manager with rotation, IAM database
 * authentication, log exports, enhanced monitoring and (where supported) Performance Insights.
 */
export class DataTier extends Construct implements IDataTier {
  /** The default MySQL engine version: a full version, as RDS and cfn-lint require. */
  public static readonly DEFAULT_ENGINE_VERSION = DEFAULT_ENGINE_VERSION;

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
  /** The tag key that puts a resource into the backup selection (`cdk-three-tier:backup`). */
  public readonly backupTagKey: string = BACKUP_TAG_KEY;
  /**
   * The value of `backupTagKey` the backup plan selects, if the plan is on: the database carries it;
   * `Tags.of(resource).add(tier.backupTagKey, tier.backupTagValue!)` backs up a resource of your own.
   */
  public readonly backupTagValue?: string;
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
    const inputs = resolveDataInputs(this, props);
    this.port = inputs.port;
    this.databaseName = inputs.databaseName;
    this.appUsername = inputs.appUsername;
    this.performanceInsightsEnabled = inputs.performanceInsights;
    this.encryptionKey = createEncryptionKey(this, inputs.removalPolicy);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Data tier database',
      allowAllOutbound: false,
    });
    ({ database: this.database, parameterGroup: this.parameterGroup, optionGroup: this.optionGroup } =
      createDatabase(this, props.vpc, inputs, this.encryptionKey, this.securityGroup));
    this.secret = this.database.secret!;
    this.endpointAddress = this.database.dbInstanceEndpointAddress;
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroup],
      defaultPort: ec2.Port.tcp(this.port),
    });

    const network = functionNetwork(this, props, inputs.vpcSubnets);
    this.secretsManagerEndpoint = network.createdEndpoint;
    if (inputs.rotation) {
      ({ rotation: this.rotation, securityGroup: this.rotationSecurityGroup } =
        createRotation(this, props.vpc, this.database, this, network, inputs.rotation));
    }
    const appUser = createAppUser(this, {
      vpc: props.vpc,
      connections: this.connections,
      secret: this.secret,
      endpointAddress: this.endpointAddress,
      dependencies: this.rotation ? [this.database, this.rotation] : [this.database],
    }, network, inputs);
    this.appUserResource = appUser.resource;
    this.appUserFunction = appUser.handler;

    if (inputs.backup) {
      ({ plan: this.backupPlan, vault: this.backupVault, tagValue: this.backupTagValue } =
        createBackupPlan(this, this.database, this.encryptionKey, inputs.backup));
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
