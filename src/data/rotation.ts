import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RotationSchedule } from './data-checks';
import { DataTierProps } from './data-tier-props';

/** Characters left out of generated passwords (the set aws-cdk-lib uses for RDS). */
const EXCLUDE_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\";

/** Where the rotation and app-user functions run and how they reach Secrets Manager. */
export interface FunctionNetwork {
  /** The subnets of the functions. */
  readonly subnets: ec2.SubnetSelection;
  /** The Secrets Manager endpoint they use; undefined: through NAT. */
  readonly endpoint?: ec2.IInterfaceVpcEndpoint;
  /** The endpoint the tier created, if it did. */
  readonly createdEndpoint?: ec2.InterfaceVpcEndpoint;
}

/**
 * The rotation function and the app-user function reach Secrets Manager through an endpoint in
 * the database subnets (created unless one is given), or through NAT from `rotationSubnets`.
 */
export function functionNetwork(scope: Construct, props: DataTierProps, databaseSubnets: ec2.SubnetSelection): FunctionNetwork {
  const subnets = props.rotationSubnets ?? databaseSubnets;
  if (props.rotationEndpoint || props.rotationSubnets) return { subnets, endpoint: props.rotationEndpoint };
  const createdEndpoint = new ec2.InterfaceVpcEndpoint(scope, 'SecretsManagerEndpoint', {
    vpc: props.vpc,
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    subnets: databaseSubnets,
    privateDnsEnabled: true,
    open: false,
  });
  return { subnets, endpoint: createdEndpoint, createdEndpoint };
}

/** What `createRotation` makes. */
export interface RotationParts {
  readonly rotation: secretsmanager.SecretRotation;
  readonly securityGroup: ec2.SecurityGroup;
}

/**
 * Single-user rotation of the master password, by a function with its own security group: HTTPS
 * to Secrets Manager (the endpoint, or anywhere through NAT) and the database port to `target`.
 */
export function createRotation(
  scope: Construct, vpc: ec2.IVpc, database: rds.DatabaseInstance, target: ec2.IConnectable,
  network: FunctionNetwork, schedule: RotationSchedule,
): RotationParts {
  const securityGroup = new ec2.SecurityGroup(scope, 'RotationSecurityGroup', {
    vpc,
    description: 'Data tier credential rotation function',
    allowAllOutbound: false,
  });
  if (network.endpoint) {
    // The rotation function reaches Secrets Manager only through the endpoint (the classic
    // "rotation times out in isolated subnets" pitfall is a missing rule here).
    network.endpoint.connections.allowDefaultPortFrom(securityGroup, 'Rotation function to Secrets Manager endpoint');
  } else {
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Secrets Manager through NAT');
  }
  // The target is the tier (literal port) rather than the instance (port token), so the security
  // group rule reads 3306 to rule checkers.
  const rotation = new secretsmanager.SecretRotation(database, 'RotationSingleUser', {
    application: secretsmanager.SecretRotationApplication.MYSQL_ROTATION_SINGLE_USER,
    secret: database.secret!,
    target,
    vpc,
    vpcSubnets: network.subnets,
    endpoint: network.endpoint,
    securityGroup,
    automaticallyAfter: schedule.automaticallyAfter,
    excludeCharacters: EXCLUDE_CHARACTERS,
  });
  if (schedule.tokenRate) setRotationRate(database.secret!, schedule.tokenRate);
  return { rotation, securityGroup };
}

/**
 * Writes a schedule expression into the rotation schedule aws-cdk-lib made for the secret.
 * `SecretRotation` does not expose its schedule, so the schedule is found among the secret's
 * children by its type (`secretsmanager.RotationSchedule`), not by its construct id.
 */
function setRotationRate(secret: secretsmanager.ISecret, rate: string): void {
  const schedules = secret.node.children.filter((c): c is secretsmanager.RotationSchedule => c instanceof secretsmanager.RotationSchedule);
  if (schedules.length !== 1) throw new Error(`expected one rotation schedule on ${secret.node.path}, found ${schedules.length}`);
  const schedule = schedules[0].node.defaultChild as secretsmanager.CfnRotationSchedule;
  schedule.rotationRules = { scheduleExpression: rate };
}
