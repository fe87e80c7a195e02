import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkBootHooks, renderBootHooks } from './boot-hooks';
import { SYSTEM_LOG_PATH } from './cloudwatch-agent';
import { acknowledge } from './compliance';
import { createAccessLogBucket, createFleet, createNotificationTopic, FleetProps } from './fleet';
import { addTelemetryPolicy, createInstanceTelemetry, InstanceLogSource, InstanceTelemetry } from './instance-telemetry';
import { createFront } from './load-balancer';
import { ManagedPolicyRole } from './managed-policy-role';
import { propOrPreset, Sourced } from './resolve';
import { BootFile } from './shell';
import { checkIntRange, invalid } from './validation';
import { FleetTierOptions } from '../fleet/fleet-tier-options';
import { OffHoursSchedule } from '../fleet/off-hours-schedule';

/**
 * The preset values the builder reads: the fields of `PresetValues` it needs (typed here so that
 * private helpers do not import the preset folder, which imports them).
 */
export interface FleetPresetValues {
  readonly webInstanceType: ec2.InstanceType;
  readonly webMinCapacity: number;
  readonly webMaxCapacity: number;
  readonly appInstanceType: ec2.InstanceType;
  readonly appMinCapacity: number;
  readonly appMaxCapacity: number;
  readonly loadBalancerDeletionProtection: boolean;
  readonly flowLogRetention: logs.RetentionDays;
  readonly logRetention?: logs.RetentionDays;
  readonly spotInstances?: boolean;
  readonly offHoursSchedule?: OffHoursSchedule;
}

/** What one of the two load-balanced fleet tiers is built from. */
export interface LoadBalancedFleetProps {
  readonly vpc: ec2.IVpc;
  /** The shared options as the user gave them (resolved and validated here). */
  readonly options: FleetTierOptions;
  /** The preset's values (`(props.preset ?? Preset.dev()).values`). */
  readonly preset: FleetPresetValues;
  /** Which preset fields give the instance type and capacities: `web*` or `app*`. */
  readonly tier: 'web' | 'app';
  readonly instanceSubnets: ec2.SubnetSelection;
  readonly loadBalancerSubnets: ec2.SubnetSelection;
  readonly internetFacing: boolean;
  /** Description of the fleet's security group, e.g. 'Web tier (NGINX)' (' instances' is appended). */
  readonly fleetDescription: string;
  /** Description of the load balancer's security group, e.g. 'Web tier public load balancer'. */
  readonly loadBalancerDescription: string;
  /** Prefix of the access logs and of the WAF log group, e.g. 'web'. */
  readonly accessLogPrefix: string;
  /** Days the access logs are kept when the bucket is created here, with the name errors give it. */
  readonly accessLogExpirationDays: Sourced<number>;
  /** The tier's own boot steps (ending with its health check); the boot hooks go around them. */
  readonly commands: string[];
  /** What the user can shrink when the user data is too large (named in the error). */
  readonly sizeHint: string;
  /** Port the instances serve on (target group, health check, load balancer ingress). */
  readonly targetPort: number;
  /** Path the target group checks (already validated). */
  readonly healthCheckPath: string;
  /** Paths the tier's boot steps write: boot hook files must not use them. */
  readonly reservedPaths: string[];
  /** The files of the instances the CloudWatch agent ships (besides the system log), and the tier's extra telemetry files. */
  readonly telemetry: { readonly logSources: InstanceLogSource[]; readonly files?: BootFile[] };
  /**
   * Called once the instance fleet exists and before the access-log bucket and the load balancer
   * are created (`loadBalancer` and the fields after it are not set yet): wiring of the instances
   * done here keeps its place in the template (security-group rules of the instances come before
   * the load balancer's rule to them, as they always have).
   */
  readonly beforeLoadBalancer?: (fleet: LoadBalancedFleet) => void;
}

/**
 * The construct both load-balanced fleet tiers are: a notification topic (unless given), the
 * instance fleet, an access-log bucket (unless given), the load balancer with its target group and
 * WAF, and CPU target tracking. Every resource is a child of the tier (`scope`) with the id it has
 * always had. The tier adds its listeners, its own grants and scaling on top.
 */
export class LoadBalancedFleet {
  public readonly notificationTopic: sns.ITopic;
  public readonly role: ManagedPolicyRole;
  public readonly instanceSecurityGroup: ec2.SecurityGroup;
  public readonly launchTemplate: ec2.LaunchTemplate;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly userData: ec2.UserData;
  public readonly accessLogBucket: s3.IBucket;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The instances' security group, default port the target port. */
  public readonly instanceConnections: ec2.Connections;
  /** The instances' log groups (by source id: 'System' and the tier's) and the agent's configuration. */
  public readonly telemetry: InstanceTelemetry;
  /** The customer managed key of the instances' EBS volumes. */
  public readonly volumeKey: kms.IKey;

  constructor(scope: Construct, props: LoadBalancedFleetProps) {
    const options = props.options;
    const cpuTarget = options.cpuTargetUtilizationPercent ?? 60;
    checkIntRange(scope, 'cpuTargetUtilizationPercent', cpuTarget, 10, 90);
    checkBootHooks(scope, 'bootHooks', options.bootHooks, props.reservedPaths);

    this.notificationTopic = options.notificationTopic ?? createNotificationTopic(scope);
    this.telemetry = createInstanceTelemetry(scope, {
      logSources: [{ id: 'System', filePath: SYSTEM_LOG_PATH }, ...props.telemetry.logSources],
      files: props.telemetry.files,
      retention: options.logRetention ?? props.preset.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    const fleet = createFleet(scope, fleetProps(scope, props, this.notificationTopic, this.telemetry.commands));
    addTelemetryPolicy(fleet.role, this.telemetry);
    this.volumeKey = fleet.volumeKey;
    this.role = fleet.role;
    this.instanceSecurityGroup = fleet.securityGroup;
    this.launchTemplate = fleet.launchTemplate;
    this.autoScalingGroup = fleet.autoScalingGroup;
    this.userData = fleet.userData;
    this.instanceConnections = new ec2.Connections({
      securityGroups: [fleet.securityGroup],
      defaultPort: ec2.Port.tcp(props.targetPort),
    });
    props.beforeLoadBalancer?.(this);

    const expiration = props.accessLogExpirationDays;
    this.accessLogBucket = options.accessLogBucket ?? createAccessLogBucket(scope, expiration.value, expiration.source);
    const front = createFront(scope, {
      vpc: props.vpc,
      vpcSubnets: props.loadBalancerSubnets,
      internetFacing: props.internetFacing,
      description: props.loadBalancerDescription,
      deletionProtection: options.deletionProtection ?? props.preset.loadBalancerDeletionProtection,
      accessLogBucket: this.accessLogBucket,
      accessLogPrefix: props.accessLogPrefix,
      waf: options.waf ?? true,
      wafLogRetention: props.preset.flowLogRetention,
      autoScalingGroup: this.autoScalingGroup,
      targetPort: props.targetPort,
      healthCheckPath: props.healthCheckPath,
    });
    this.loadBalancer = front.loadBalancer;
    this.loadBalancerSecurityGroup = front.securityGroup;
    this.targetGroup = front.targetGroup;
    this.webAcl = front.webAcl;
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: cpuTarget });
  }

  /** Lets the instances read exactly one asset's object, nothing else in the assets bucket. */
  public grantAssetRead(asset: s3assets.Asset): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['s3:GetObject'],
      resourceArns: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
    });
  }

  /** Lets the instances read the objects of a bucket and list it (and decrypt with its key). */
  public grantBucketRead(bucket: s3.IBucket): iam.Grant {
    return this.grantBucket(bucket, ['s3:GetObject'], ['kms:Decrypt']);
  }

  /**
   * Lets the instances read, write and delete the objects of a bucket and list it (and use its key),
   * with explicit actions rather than wildcards; object keys are the only wildcard.
   */
  public grantBucketReadWrite(bucket: s3.IBucket): iam.Grant {
    return this.grantBucket(bucket, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], ['kms:Decrypt', 'kms:GenerateDataKey']);
  }

  /** Average response time of the load balancer's targets; average over 5 minutes unless overridden. */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.targetResponseTime({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /** HTTP 5xx responses from the load balancer's targets; sum over 5 minutes unless overridden. */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  private grantBucket(bucket: s3.IBucket, objectActions: string[], keyActions: string[]): iam.Grant {
    let grant = iam.Grant.addToPrincipal({ grantee: this.role, actions: objectActions, resourceArns: [bucket.arnForObjects('*')] })
      .combine(iam.Grant.addToPrincipal({ grantee: this.role, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] }));
    if (bucket.encryptionKey) {
      grant = grant.combine(iam.Grant.addToPrincipal({ grantee: this.role, actions: keyActions, resourceArns: [bucket.encryptionKey.keyArn] }));
    }
    const bucketResource = bucket.node.defaultChild as CfnResource | undefined;
    if (bucketResource && CfnResource.isCfnResource(bucketResource)) {
      acknowledge(this.role, 'objectLevelWildcards',
        [`AwsSolutions-IAM5[Resource::<${Stack.of(bucketResource).getLogicalId(bucketResource)}.Arn>/*]`]);
    }
    return grant;
  }
}

/**
 * The fleet's props: capacities, instance type and cost controls over the preset, the boot hooks
 * around the telemetry and the tier's steps.
 */
function fleetProps(scope: Construct, props: LoadBalancedFleetProps, notificationTopic: sns.ITopic, telemetryCommands: string[]): FleetProps {
  const { options, preset, tier } = props;
  const minCapacity = propOrPreset('minCapacity', options.minCapacity, preset, tier === 'web' ? 'webMinCapacity' : 'appMinCapacity');
  const maxCapacity = propOrPreset('maxCapacity', options.maxCapacity, preset, tier === 'web' ? 'webMaxCapacity' : 'appMaxCapacity');
  const hooks = renderBootHooks(options.bootHooks);
  const hasHooks = hooks.before.length + hooks.after.length > 0;
  return {
    vpc: props.vpc,
    vpcSubnets: props.instanceSubnets,
    instanceType: options.instanceType ?? (tier === 'web' ? preset.webInstanceType : preset.appInstanceType),
    minCapacity: minCapacity.value,
    maxCapacity: maxCapacity.value,
    capacitySources: { min: minCapacity.source, max: maxCapacity.source },
    machineImage: options.machineImage,
    commands: [...hooks.before, ...telemetryCommands, ...props.commands, ...hooks.after],
    description: props.fleetDescription,
    sizeHint: hasHooks ? `${props.sizeHint}, or smaller bootHooks` : props.sizeHint,
    notificationTopic,
    ...costControls(scope, options, preset),
  };
}

/** Spot and the off-hours schedule: the tier's options over the preset's. */
function costControls(scope: Construct, options: FleetTierOptions, preset: FleetPresetValues): Pick<FleetProps, 'spot' | 'offHoursSchedule'> {
  const spot = propOrPreset('spot', options.spot, preset, 'spotInstances');
  const onDemandBaseCapacity = options.onDemandBaseCapacity ?? 0;
  checkIntRange(scope, 'onDemandBaseCapacity', onDemandBaseCapacity, 0, 100);
  if (options.onDemandBaseCapacity !== undefined && spot.value !== true) {
    invalid(scope, 'onDemandBaseCapacity', options.onDemandBaseCapacity, `needs spot instances (${spot.source} is ${spot.value ?? false})`);
  }
  const schedule = propOrPreset('offHoursSchedule', options.offHoursSchedule, preset, 'offHoursSchedule');
  if (schedule.value !== undefined && !(schedule.value instanceof OffHoursSchedule)) {
    invalid(scope, schedule.source, schedule.value, 'must be an OffHoursSchedule, e.g. OffHoursSchedule.weekdays()');
  }
  return {
    spot: spot.value === true ? { onDemandBaseCapacity } : undefined,
    offHoursSchedule: schedule.value?.schedule ? { schedule: schedule.value.schedule, source: schedule.source } : undefined,
  };
}
