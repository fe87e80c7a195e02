import { Aws, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge } from './compliance';
import { addOffHoursSchedule, Capacities, createAutoScalingGroup, createVolumeKey, SpotOptions } from './fleet-group';
import { ManagedPolicyRole } from './managed-policy-role';
import { addSessionManagerPolicy } from './session-manager';
import { userDataSizeBound, USER_DATA_LIMIT } from './user-data-size';
import { checkIntRange, checkOrder, invalid, literalNumber } from './validation';
import type { OffHoursScheduleProps } from '../fleet/off-hours-schedule';

/** What a tier's instance fleet is built from. */
export interface FleetProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly instanceType: ec2.InstanceType;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** The names errors give the capacities: the tier prop, or the preset field they came from. */
  readonly capacitySources?: { readonly min: string; readonly max: string };
  readonly desiredCapacity?: number;
  readonly rootVolumeGiB?: number;
  /**
   * The machine image (checked to be Linux).
   *
   * @default - the latest Amazon Linux 2023 for the instance type's CPU architecture
   */
  readonly machineImage?: ec2.IMachineImage;
  /** Commands run at boot; a success signal to CloudFormation is appended. */
  readonly commands: string[];
  readonly description: string;
  /** Topic for Auto Scaling notifications. */
  readonly notificationTopic: sns.ITopic;
  /** What the user can shrink when the user data is too large (named in the error). */
  readonly sizeHint: string;
  /** Spot instances (a mixed instances policy). @default - on-demand only */
  readonly spot?: SpotOptions;
  /** Scaling to zero off hours, with the prop name errors give it. @default - always on */
  readonly offHoursSchedule?: { readonly schedule: OffHoursScheduleProps; readonly source: string };
}

/** An instance fleet: role, security group, launch template and Auto Scaling Group. */
export interface Fleet {
  readonly role: ManagedPolicyRole;
  readonly securityGroup: ec2.SecurityGroup;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly userData: ec2.UserData;
  /** The customer managed key of the EBS volumes. */
  readonly volumeKey: kms.IKey;
}

export { SIGNAL_TIMEOUT } from './fleet-group';

/**
 * Creates the hardened instance fleet both compute tiers use: latest Amazon Linux 2023 (or the
 * given Linux image), IMDSv2 required with hop limit 1, encrypted gp3 root volume, no key pair, no
 * public IP, an SSM managed instance role, egress limited to HTTPS, and a rolling update that waits
 * for each new instance's success signal (so a launch template change replaces instances one batch
 * at a time).
 */
export function createFleet(scope: Construct, props: FleetProps): Fleet {
  const capacities = fleetCapacities(scope, props);
  const rootVolumeGiB = props.rootVolumeGiB ?? 16;
  checkIntRange(scope, 'rootVolumeGiB', rootVolumeGiB, 8, 1024);
  if (props.machineImage) checkMachineImage(scope, props.machineImage);

  const volumeKey = createVolumeKey(scope);
  const role = createInstanceRole(scope);
  const securityGroup = createInstanceSecurityGroup(scope, props.vpc, props.description);
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'set -euo pipefail',
    // cfn-signal, for the success signal sent on exit
    'dnf install -y aws-cfn-bootstrap',
    ...props.commands,
  );
  const launchTemplate = createLaunchTemplate(scope, {
    machineImage: props.machineImage ?? defaultMachineImage(props.instanceType),
    instanceType: props.instanceType,
    role,
    securityGroup,
    userData,
    rootVolumeGiB,
    volumeKey,
  });
  const autoScalingGroup = createAutoScalingGroup(scope, {
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    launchTemplate,
    instanceType: props.instanceType,
    capacities,
    notificationTopic: props.notificationTopic,
    spot: props.spot,
  });
  if (props.offHoursSchedule) {
    addOffHoursSchedule(scope, autoScalingGroup, props.offHoursSchedule.schedule, capacities, props.offHoursSchedule.source);
  }
  userData.addSignalOnExitCommand(autoScalingGroup);
  launchTemplate.node.addValidation({ validate: () => checkUserDataSize(launchTemplate, userData, props.sizeHint) });

  return { role, securityGroup, launchTemplate, autoScalingGroup, userData, volumeKey };
}

/** The capacities as literals, in range and in order (they shape the rolling update's MinInstancesInService). */
function fleetCapacities(scope: Construct, props: FleetProps): Capacities {
  const why = "it sets the rolling update's MinInstancesInService";
  const minName = props.capacitySources?.min ?? 'minCapacity';
  const maxName = props.capacitySources?.max ?? 'maxCapacity';
  const min = literalNumber(scope, minName, props.minCapacity, why);
  const max = literalNumber(scope, maxName, props.maxCapacity, why);
  const desired = props.desiredCapacity === undefined ? undefined : literalNumber(scope, 'desiredCapacity', props.desiredCapacity, why);
  checkIntRange(scope, minName, min, 1, 100);
  checkIntRange(scope, maxName, max, 1, 100);
  checkOrder(scope, minName, min, maxName, max);
  if (desired !== undefined) {
    checkIntRange(scope, 'desiredCapacity', desired, 1, 100);
    checkOrder(scope, 'minCapacity', min, 'desiredCapacity', desired);
    checkOrder(scope, 'desiredCapacity', desired, 'maxCapacity', max);
  }
  return { min, max, desired };
}

/**
 * The boot script is Linux shell run by cloud-init: a Windows image would never run it (and never
 * signal), so the deployment would only fail after the signal timeout.
 */
function checkMachineImage(scope: Construct, machineImage: ec2.IMachineImage): void {
  const osType = machineImage.getImage(scope).osType;
  if (osType !== ec2.OperatingSystemType.LINUX) {
    invalid(scope, 'machineImage', `${ec2.OperatingSystemType[osType] ?? osType} image`,
      'must be a Linux image (the boot script is a bash script run by cloud-init), e.g. ec2.MachineImage.latestAmazonLinux2023() or ec2.MachineImage.genericLinux({...})');
  }
}

/** The latest Amazon Linux 2023 for the instance type's CPU architecture. */
function defaultMachineImage(instanceType: ec2.InstanceType): ec2.IMachineImage {
  const cpuType = instanceType.architecture === ec2.InstanceArchitecture.ARM_64
    ? ec2.AmazonLinuxCpuType.ARM_64
    : ec2.AmazonLinuxCpuType.X86_64;
  return ec2.MachineImage.latestAmazonLinux2023({ cpuType });
}

function createInstanceRole(scope: Construct): ManagedPolicyRole {
  const role = new ManagedPolicyRole(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `Instances of ${scope.node.path}`,
  });
  addSessionManagerPolicy(role);
  return role;
}

function createInstanceSecurityGroup(scope: Construct, vpc: ec2.IVpc, description: string): ec2.SecurityGroup {
  const securityGroup = new ec2.SecurityGroup(scope, 'InstanceSecurityGroup', {
    vpc,
    description: `${description} instances`,
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443),
    'HTTPS to AWS APIs and package repositories (through NAT or VPC endpoints)');
  return securityGroup;
}

interface LaunchTemplateParts {
  readonly machineImage: ec2.IMachineImage;
  readonly instanceType: ec2.InstanceType;
  readonly role: iam.IRole;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly userData: ec2.UserData;
  readonly rootVolumeGiB: number;
  readonly volumeKey: kms.IKey;
}

function createLaunchTemplate(scope: Construct, parts: LaunchTemplateParts): ec2.LaunchTemplate {
  return new ec2.LaunchTemplate(scope, 'LaunchTemplate', {
    machineImage: parts.machineImage,
    instanceType: parts.instanceType,
    role: parts.role,
    securityGroup: parts.securityGroup,
    userData: parts.userData,
    requireImdsv2: true,
    httpPutResponseHopLimit: 1,
    associatePublicIpAddress: false,
    detailedMonitoring: true,
    ebsOptimized: true,
    blockDevices: [{
      deviceName: '/dev/xvda',
      volume: ec2.BlockDeviceVolume.ebs(parts.rootVolumeGiB, {
        encrypted: true,
        kmsKey: parts.volumeKey,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        deleteOnTermination: true,
      }),
    }],
  });
}

/**
 * Creates a bucket for load balancer access logs: SSE-S3 (the only encryption ALB log delivery
 * supports), versioned, public access blocked, TLS 1.2+ only, objects expired after `expirationDays`,
 * moved to cheaper storage classes before that (see `accessLogTransitions`).
 */
export function createAccessLogBucket(scope: Construct, expirationDays: number, source = 'accessLogExpirationDays'): s3.Bucket {
  checkIntRange(scope, source, expirationDays, 1, 3650);
  const bucket = new s3.Bucket(scope, 'AccessLogBucket', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{
      expiration: Duration.days(expirationDays),
      transitions: accessLogTransitions(expirationDays),
      noncurrentVersionExpiration: Duration.days(7),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(bucket, 'accessLogBucketSseS3');
  acknowledge(bucket, 'accessLogBucketNoServerAccessLogs');
  acknowledge(bucket, 'logBucketReplication');
  return bucket;
}

/**
 * The storage-class transitions of access logs kept `expirationDays`: Standard-IA after 30 days
 * (S3's minimum age for it) when they are kept longer than that, and Glacier Instant Retrieval
 * after 90 days when they are kept at least 180 days (90 days there, its minimum storage duration).
 * S3 moves no object under 128 KB (its default size filter), so small log files stay in Standard.
 */
export function accessLogTransitions(expirationDays: number): s3.Transition[] {
  return [
    ...(expirationDays > 30 ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }] : []),
    ...(expirationDays >= 180 ? [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }] : []),
  ];
}

/**
 * Turns on a load balancer's access logs. In a stack with a concrete region the L2 method writes
 * the bucket policy for that region's ELB account; in a region-agnostic stack the policy grants the
 * ELB log delivery service principal, which needs no per-region account ID.
 */
export function enableAccessLogs(loadBalancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: string): void {
  if (!Token.isUnresolved(Stack.of(loadBalancer).region)) {
    loadBalancer.logAccessLogs(bucket, prefix);
    return;
  }
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
  const result = bucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`)],
  }));
  if (result.policyDependable) loadBalancer.node.addDependency(result.policyDependable);
}

/**
 * Sends a bucket's server access logs to the log bucket through a bucket policy (the log bucket
 * has ACLs disabled, so the ACL-based delivery aws-cdk-lib uses without a feature flag is not an option).
 */
export function enableServerAccessLogs(bucket: s3.Bucket, logBucket: s3.IBucket, prefix: string): void {
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
    destinationBucketName: logBucket.bucketName,
    logFilePrefix: prefix,
  };
  logBucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [logBucket.arnForObjects(`${prefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    },
  }));
}

/**
 * Creates the topic for Auto Scaling notifications: encrypted with a customer managed key that SNS
 * may use on behalf of this account's principals (Auto Scaling publishes with its service-linked
 * role), TLS-only publishing.
 */
export function createNotificationTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'NotificationKey', {
    description: `Encrypts the notification topic of ${scope.node.path}`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowSnsForThisAccount',
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: {
      StringEquals: {
        'kms:CallerAccount': Aws.ACCOUNT_ID,
        'kms:ViaService': `sns.${Aws.REGION}.amazonaws.com`,
      },
    },
  }));
  return new sns.Topic(scope, 'NotificationTopic', {
    masterKey: key,
    enforceSSL: true,
  });
}

/**
 * Creates a customer managed key (rotation on) that CloudWatch Logs in this account and region may
 * use for log groups.
 */
export function createLogKey(scope: Construct, id: string, purpose: string): kms.Key {
  const key = new kms.Key(scope, id, {
    description: `Encrypts ${purpose} of ${scope.node.path}`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogs',
    principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` },
    },
  }));
  return key;
}

/**
 * EC2 refuses user data over 16 KB (before base64) at launch, after a rollback of many minutes:
 * check at synth, with every token counted at the longest value it can resolve to.
 */
function checkUserDataSize(scope: Construct, userData: ec2.UserData, hint: string): string[] {
  const bytes = userDataSizeBound(Stack.of(scope).resolve(userData.render()));
  return bytes <= USER_DATA_LIMIT ? [] : [
    `user data (${bytes} bytes with every token at its longest) must be at most ${USER_DATA_LIMIT} bytes (EC2's limit) in ${scope.node.path}: ${hint}`,
  ];
}
