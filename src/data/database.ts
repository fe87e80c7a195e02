import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DataInputs } from './data-inputs';
import { acknowledge } from '../private/compliance';
import { ManagedPolicyRole } from '../private/managed-policy-role';

/** What `createDatabase` makes. */
export interface DatabaseParts {
  readonly database: rds.DatabaseInstance;
  readonly parameterGroup: rds.ParameterGroup;
  readonly optionGroup: rds.OptionGroup;
}

/** The customer managed key of storage, the secret and Performance Insights, kept as long as a snapshot may need it. */
export function createEncryptionKey(scope: Construct, removalPolicy: RemovalPolicy): kms.Key {
  return new kms.Key(scope, 'EncryptionKey', {
    description: `Encrypts the database, its credentials and Performance Insights of ${scope.node.path}`,
    enableKeyRotation: true,
    // A snapshot (or retained instance) stays readable only while its key exists.
    removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
}

/**
 * The parameter group (TLS required, slow query log), the option group (MariaDB audit plugin) and
 * the database instance: never public, encrypted, IAM authentication, logs exported.
 */
export function createDatabase(scope: Construct, vpc: ec2.IVpc, inputs: DataInputs, key: kms.Key, securityGroup: ec2.ISecurityGroup): DatabaseParts {
  const { engine } = inputs;
  const parameterGroup = new rds.ParameterGroup(scope, 'ParameterGroup', {
    engine,
    description: 'cdk-three-tier: TLS required, slow query log on',
    parameters: { require_secure_transport: '1', slow_query_log: '1', long_query_time: '2', log_output: 'FILE' },
  });
  const optionGroup = new rds.OptionGroup(scope, 'OptionGroup', {
    engine,
    description: 'cdk-three-tier: MariaDB audit plugin',
    configurations: [{ name: 'MARIADB_AUDIT_PLUGIN', settings: { SERVER_AUDIT_EVENTS: 'CONNECT,QUERY_DDL,QUERY_DCL' } }],
  });
  const database = new rds.DatabaseInstance(scope, 'Database', {
    engine,
    instanceType: inputs.instanceType,
    vpc,
    vpcSubnets: inputs.vpcSubnets,
    securityGroups: [securityGroup],
    port: inputs.port,
    multiAz: inputs.multiAz,
    publiclyAccessible: false,
    allocatedStorage: inputs.allocatedStorage,
    maxAllocatedStorage: inputs.maxAllocatedStorage,
    storageType: rds.StorageType.GP3,
    storageEncrypted: true,
    storageEncryptionKey: key,
    credentials: rds.Credentials.fromGeneratedSecret(inputs.masterUsername, { encryptionKey: key }),
    databaseName: inputs.databaseName,
    parameterGroup,
    optionGroup,
    cloudwatchLogsExports: ['error', 'general', 'slowquery', 'audit'],
    // RDS creates these log groups itself (named after the generated instance identifier), so
    // aws-cdk-lib sets their retention with its LogRetention custom resource.
    cloudwatchLogsRetention: inputs.databaseLogRetention,
    cloudwatchLogsRetentionRole: logRetentionRole(scope),
    backupRetention: inputs.backupRetention,
    deletionProtection: inputs.deletionProtection,
    removalPolicy: inputs.removalPolicy,
    iamAuthentication: true,
    autoMinorVersionUpgrade: true,
    copyTagsToSnapshot: true,
    caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
    monitoringInterval: inputs.monitoringInterval,
    enablePerformanceInsights: inputs.performanceInsights,
    performanceInsightEncryptionKey: inputs.performanceInsights ? key : undefined,
  });
  acknowledgeDatabase(database, inputs);
  if (inputs.removalPolicy !== RemovalPolicy.DESTROY) retainGeneratedSecret(database);
  return { database, parameterGroup, optionGroup };
}

/** aws-cdk-lib's LogRetention function is one per stack: its first user's role is the one it runs with. */
const LOG_RETENTION_FUNCTION_ID = 'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a';

/**
 * The role of aws-cdk-lib's LogRetention function, with its permissions in a customer managed
 * policy (the default role carries an inline policy); undefined when the stack's function exists.
 */
function logRetentionRole(scope: Construct): iam.IRole | undefined {
  if (Stack.of(scope).node.tryFindChild(LOG_RETENTION_FUNCTION_ID)) return undefined;
  const role = new ManagedPolicyRole(scope, 'LogRetentionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Sets the retention of the database log groups of ${scope.node.path}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
  // Registered with the library's acknowledgements as 'logRetentionFunction'.
  acknowledge(role, 'logRetentionFunction');
  return role;
}

function acknowledgeDatabase(database: rds.DatabaseInstance, inputs: DataInputs): void {
  acknowledge(database, 'defaultDatabasePort');
  if (!inputs.deletionProtection) acknowledge(database, 'noDeletionProtection');
  if (!inputs.multiAz) acknowledge(database, 'singleAzDatabase');
  if (inputs.monitoringInterval) acknowledge(database, 'awsManagedMonitoringPolicy');
}

/**
 * A snapshot or a retained instance is only usable with its master credentials, so the secret
 * aws-cdk-lib generates for them is retained too. `database.secret` is the secret's target
 * attachment, and `rds.Credentials.fromGeneratedSecret` takes no removal policy: the generated
 * secret is found among the instance's children by its type.
 */
function retainGeneratedSecret(database: rds.DatabaseInstance): void {
  for (const child of database.node.children) {
    if (child instanceof secretsmanager.Secret) child.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }
}
