import { createHash } from 'crypto';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { AppUserFunction } from './app-user-function';
import { DataInputs } from './data-inputs';
import { FunctionNetwork } from './rotation';
import { acknowledge } from '../private/compliance';
import { createLogKey } from '../private/fleet';
import { ManagedPolicyRole } from '../private/managed-policy-role';

/** The database the app user is created in. */
export interface AppUserTarget {
  readonly vpc: ec2.IVpc;
  /** Connections of the database (default port: the database port). */
  readonly connections: ec2.Connections;
  readonly secret: secretsmanager.ISecret;
  readonly endpointAddress: string;
  /** What the user's creation waits for: the database and, if any, the rotation schedule. */
  readonly dependencies: IDependable[];
}

/** The app-user custom resource and its handler. */
export interface AppUserParts {
  readonly resource: CustomResource;
  readonly handler: lambda.IFunction;
}

/**
 * The app user: a custom resource whose handler, in the functions' subnets with its own security
 * group (egress only to the database port and to Secrets Manager on 443), reads the master secret
 * and creates the user with the rendered SQL, after the database (and the rotation schedule) exist.
 */
export function createAppUser(scope: Construct, target: AppUserTarget, network: FunctionNetwork, inputs: DataInputs): AppUserParts {
  const securityGroup = new ec2.SecurityGroup(scope, 'AppUserSecurityGroup', {
    vpc: target.vpc,
    description: 'Data tier app-user function',
    allowAllOutbound: false,
  });
  target.connections.allowDefaultPortFrom(securityGroup, 'App-user function to database');
  if (network.endpoint) {
    network.endpoint.connections.allowDefaultPortFrom(securityGroup, 'App-user function to Secrets Manager endpoint');
  } else {
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Secrets Manager through NAT');
  }
  // One encrypted log group with a retention for the handler and the provider framework.
  const logGroup = new logs.LogGroup(scope, 'AppUserLogGroup', {
    retention: inputs.logRetention,
    encryptionKey: createLogKey(scope, 'AppUserLogKey', 'the logs of the app-user function'),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const handler = createHandler(scope, target, network, securityGroup, logGroup);
  const provider = createProvider(scope, handler, logGroup);
  const resource = new CustomResource(scope, 'AppUser', {
    serviceToken: provider.serviceToken,
    resourceType: 'Custom::AppUser',
    properties: {
      SecretArn: target.secret.secretArn,
      Host: target.endpointAddress,
      Port: String(inputs.port),
      DatabaseName: inputs.databaseName,
      Username: inputs.appUsername,
      // A new library version that renders different SQL runs it again on the next deployment.
      SqlDigest: createHash('sha256').update(inputs.appUserStatements.join(';\n')).digest('hex'),
    },
  });
  target.dependencies.forEach((d) => resource.node.addDependency(d));
  return { resource, handler };
}

/** The function that runs the SQL with the master credentials. */
function createHandler(
  scope: Construct, target: AppUserTarget, network: FunctionNetwork, securityGroup: ec2.ISecurityGroup, logGroup: logs.ILogGroup,
): lambda.Function {
  const role = new ManagedPolicyRole(scope, 'AppUserFunctionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Creates the app user of ${scope.node.path} with the master credentials`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
  });
  acknowledge(role, 'awsManagedLambdaPolicy');
  const handler = new AppUserFunction(scope, 'AppUserFunction', {
    description: `Creates the database user the API connects as (${scope.node.path})`,
    role,
    vpc: target.vpc,
    vpcSubnets: network.subnets,
    securityGroups: [securityGroup],
    timeout: Duration.minutes(3),
    memorySize: 256,
    logGroup,
  });
  target.secret.grantRead(handler);
  acknowledge(handler, 'appUserFunction');
  return handler;
}

/** The custom resource provider in front of the handler, logging to the same group. */
function createProvider(scope: Construct, handler: lambda.Function, logGroup: logs.ILogGroup): cr.Provider {
  const role = new ManagedPolicyRole(scope, 'AppUserProviderRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Runs the custom resource provider of the app user of ${scope.node.path}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
  acknowledge(role, 'awsManagedLambdaPolicy');
  const provider = new cr.Provider(scope, 'AppUserProvider', {
    onEventHandler: handler,
    frameworkOnEventRole: role,
    logGroup,
  });
  acknowledge(provider, 'customResourceProvider');
  const handlerResource = handler.node.defaultChild as lambda.CfnFunction;
  acknowledge(role, 'providerInvokesFunctionVersions',
    [`AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(handlerResource)}.Arn>:*]`]);
  return provider;
}
