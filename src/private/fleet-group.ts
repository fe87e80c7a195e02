import { Aws, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledge } from './compliance';
import { invalid } from './validation';
import { OffHoursScheduleProps } from '../fleet/off-hours-schedule';

/** How long an instance has to boot and signal success before CloudFormation rolls back. */
export const SIGNAL_TIMEOUT = Duration.minutes(15);

/** A fleet's capacities, literal and checked. */
export interface Capacities {
  readonly min: number;
  readonly max: number;
  readonly desired?: number;
}

/** Spot instances of a fleet. */
export interface SpotOptions {
  /** Instances that are always on-demand (the rest is spot). */
  readonly onDemandBaseCapacity: number;
}

/** What the Auto Scaling group is built from. */
export interface GroupParts {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly instanceType: ec2.InstanceType;
  readonly capacities: Capacities;
  readonly notificationTopic: sns.ITopic;
  readonly spot?: SpotOptions;
}

/**
 * Instance classes of the same CPU architecture and size grid that can stand in for each other in
 * a spot pool (same vCPUs and memory at each size): more pools, fewer interruptions.
 */
const SPOT_SUBSTITUTES: { [instanceClass: string]: string[] } = {
  t3: ['t3a'],
  t3a: ['t3'],
  t4g: [],
  m5: ['m5a', 'm6i'],
  m5a: ['m5', 'm6a'],
  m6i: ['m6a', 'm5'],
  m6a: ['m6i', 'm5a'],
  m7i: ['m6i', 'm7a'],
  m7a: ['m7i', 'm6a'],
  c5: ['c5a', 'c6i'],
  c6i: ['c6a', 'c5'],
  c7i: ['c6i', 'c7a'],
  r5: ['r5a', 'r6i'],
  r6i: ['r6a', 'r5'],
  r7i: ['r6i', 'r7a'],
};

/** The instance type and its substitutes of the same size, for a mixed instances policy. */
export function spotInstanceTypes(instanceType: ec2.InstanceType): ec2.InstanceType[] {
  const name = instanceType.toString();
  const [instanceClass, size] = name.split('.');
  return [name, ...(SPOT_SUBSTITUTES[instanceClass] ?? []).map((c) => `${c}.${size}`)].map((n) => new ec2.InstanceType(n));
}

/**
 * The Auto Scaling group: ELB health checks, success signals for the minimum capacity, a rolling
 * update one instance at a time that waits for each new instance's signal. With spot, a mixed
 * instances policy (price-capacity-optimized over the type and its substitutes, `onDemandBaseCapacity`
 * on-demand instances first) with capacity rebalancing.
 */
export function createAutoScalingGroup(scope: Construct, parts: GroupParts): autoscaling.AutoScalingGroup {
  const { capacities, spot } = parts;
  const group = new autoscaling.AutoScalingGroup(scope, 'AutoScalingGroup', {
    vpc: parts.vpc,
    vpcSubnets: parts.vpcSubnets,
    ...(spot ? {
      mixedInstancesPolicy: {
        launchTemplate: parts.launchTemplate,
        launchTemplateOverrides: spotInstanceTypes(parts.instanceType).map((instanceType) => ({ instanceType })),
        instancesDistribution: {
          onDemandBaseCapacity: spot.onDemandBaseCapacity,
          onDemandPercentageAboveBaseCapacity: 0,
          spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
        },
      },
      capacityRebalance: true,
    } : { launchTemplate: parts.launchTemplate }),
    minCapacity: capacities.min,
    maxCapacity: capacities.max,
    desiredCapacity: capacities.desired,
    healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
      additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
      gracePeriod: Duration.minutes(5),
    }),
    signals: autoscaling.Signals.waitForMinCapacity({ timeout: SIGNAL_TIMEOUT }),
    updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
      maxBatchSize: 1,
      minInstancesInService: Math.max(0, Math.min(capacities.min, capacities.max - 1)),
      waitOnResourceSignals: true,
      pauseTime: SIGNAL_TIMEOUT,
    }),
    groupMetrics: [autoscaling.GroupMetrics.all()],
    notifications: [{ topic: parts.notificationTopic }],
  });
  if (spot) acknowledge(group, 'spotLaunchTemplateInMixedPolicy');
  return group;
}

/** An IANA time zone name (`UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+5`). */
const TIME_ZONE = /^(UTC|GMT|[A-Z][A-Za-z]+(\/[A-Za-z0-9_+-]+){1,2})$/;

/**
 * Scales the group to zero at `scaleDown` and back to its minimum at `scaleUp`. The maximum is never
 * changed: the rolling update's MinInstancesInService stays below it, so a deployment at night is
 * valid; with no instance in service it has none to replace and waits for no signal. aws-cdk-lib
 * sets `IgnoreUnmodifiedGroupSizeProperties`, so a deployment does not undo a scale-down.
 */
export function addOffHoursSchedule(
  scope: Construct, group: autoscaling.AutoScalingGroup, schedule: OffHoursScheduleProps, capacities: Capacities, prop: string,
): void {
  const timeZone = schedule.timeZone ?? 'UTC';
  if (!Token.isUnresolved(timeZone) && !TIME_ZONE.test(timeZone)) {
    invalid(scope, `${prop}.timeZone`, timeZone, "must be an IANA time zone name, e.g. 'UTC', 'Europe/Berlin' or 'America/New_York'");
  }
  for (const key of ['scaleDown', 'scaleUp'] as const) {
    const expression = schedule[key]?.expressionString;
    if (typeof expression !== 'string' || (!Token.isUnresolved(expression) && expression.trim().split(/\s+/).length !== 5)) {
      invalid(scope, `${prop}.${key}`, expression, 'must be an autoscaling.Schedule of five cron fields, e.g. autoscaling.Schedule.cron({ hour: \'20\', minute: \'0\' })');
    }
  }
  if (schedule.scaleDown.expressionString === schedule.scaleUp.expressionString) {
    invalid(scope, `${prop}.scaleUp`, schedule.scaleUp.expressionString, 'must differ from scaleDown (both would fire at once)');
  }
  group.scaleOnSchedule('OffHoursScaleDown', { schedule: schedule.scaleDown, timeZone, minCapacity: 0, desiredCapacity: 0 });
  group.scaleOnSchedule('OffHoursScaleUp', {
    schedule: schedule.scaleUp, timeZone, minCapacity: capacities.min, desiredCapacity: capacities.desired ?? capacities.min,
  });
}

/**
 * A customer managed key for the instances' EBS volumes. EC2 launches the instances on behalf of
 * Auto Scaling's service-linked role (AWSServiceRoleForAutoScaling), which must be allowed to use
 * the key and create grants on it for the volumes, or every launch fails ("Client.InternalError").
 * The role is named by the `aws:PrincipalArn` condition, not as a principal, because a key policy
 * with a principal that does not exist yet (the role is created with the account's first Auto
 * Scaling group) is refused.
 */
export function createVolumeKey(scope: Construct): kms.Key {
  const key = new kms.Key(scope, 'VolumeKey', {
    description: `Encrypts the EBS volumes of ${scope.node.path}`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const autoScalingRole = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
  const conditions = { ArnEquals: { 'aws:PrincipalArn': autoScalingRole } };
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowAutoScalingServiceLinkedRole',
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
    resources: ['*'],
    conditions,
  }));
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowAutoScalingVolumeGrants',
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { ...conditions, Bool: { 'kms:GrantIsForAWSResource': true } },
  }));
  return key;
}
