import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BootHooks } from './boot-hooks';
import { OffHoursSchedule } from './off-hours-schedule';

/**
 * The options both load-balanced fleet tiers (web and app) share: the instances, their scaling,
 * their boot script and the load balancer in front of them.
 */
export interface FleetTierOptions {
  /**
   * Instance type.
   *
   * @default - from the preset (dev t3.micro, staging t3.small, prod m7i.large)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Minimum number of instances (1 to 100).
   *
   * @default - from the preset (dev 1, staging 2, prod 3)
   */
  readonly minCapacity?: number;

  /**
   * Maximum number of instances (1 to 100, at least `minCapacity`).
   *
   * @default - from the preset (dev 2, staging 4, prod 9)
   */
  readonly maxCapacity?: number;

  /**
   * Average CPU utilization the Auto Scaling Group tracks (10 to 90).
   *
   * @default 60
   */
  readonly cpuTargetUtilizationPercent?: number;

  /**
   * Deletion protection of the load balancer.
   *
   * @default - from the preset (prod true, otherwise false)
   */
  readonly deletionProtection?: boolean;

  /**
   * Protect the load balancer with a regional WAF web ACL (AWS managed rule groups: IP reputation,
   * core rule set, known bad inputs, SQL injection).
   *
   * @default true
   */
  readonly waf?: boolean;

  /**
   * Bucket for the load balancer's access logs.
   *
   * @default - a new bucket (SSE-S3, versioned, TLS only, public access blocked, expiring objects)
   */
  readonly accessLogBucket?: s3.IBucket;

  /**
   * Topic receiving the Auto Scaling Group's launch and termination notifications.
   *
   * @default - a new KMS-encrypted topic
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * Machine image of the instances. It must be a Linux image (checked at synth) whose architecture
   * matches `instanceType` (not checked: the image's architecture is only known at launch).
   *
   * The library's boot steps need from the image: `bash`; `dnf` with repositories that serve
   * the packages the steps install with `dnf install -y` (`aws-cfn-bootstrap`, `amazon-cloudwatch-agent`
   * and `rsyslog`; for the web tier
   * `nginx` and `unzip`; for the app tier `unzip` and what its runtime installs, e.g. `nodejs22`),
   * as the Amazon Linux 2023 repositories do (preinstalled packages are enough only when dnf can
   * still read its repositories); systemd; `curl`; the AWS CLI v2 (`aws`); `base64`; and
   * cloud-init running the user data as a script at first boot. Amazon Linux 2023 has all of them.
   *
   * @default - the latest Amazon Linux 2023 for the instance type's CPU architecture
   * (`ec2.MachineImage.latestAmazonLinux2023`)
   */
  readonly machineImage?: ec2.IMachineImage;

  /**
   * Your own files and commands in the instances' boot script, before and after the library's
   * own steps (see `BootHooks` for the order and what a failing command does).
   *
   * @default - none
   */
  readonly bootHooks?: BootHooks;

  /**
   * Retention of the instances' log groups (system log, and NGINX access and error logs or the
   * API's output), which the CloudWatch agent on each instance ships.
   *
   * @default - from the preset's `logRetention` (dev one week, staging one month, prod one year)
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Run the fleet on spot instances: a mixed instances policy over the instance type and a few
   * types of the same size (price-capacity-optimized, capacity rebalancing on). Auto Scaling has no
   * automatic switch from spot to on-demand: the fallback is the diversification over types and
   * Availability Zones, plus `onDemandBaseCapacity` instances that are always on-demand.
   *
   * @default - from the preset (dev true, staging and prod false)
   */
  readonly spot?: boolean;

  /**
   * With `spot`, how many instances are always on-demand (0 to 100); instances above it are spot.
   *
   * @default 0
   */
  readonly onDemandBaseCapacity?: number;

  /**
   * Scale the fleet to zero outside working hours. `OffHoursSchedule.alwaysOn()` turns off the
   * preset's schedule.
   *
   * @default - from the preset (dev and staging `OffHoursSchedule.weekdays()`: up Monday to Friday
   * 07:00 to 20:00 UTC; prod always on)
   */
  readonly offHoursSchedule?: OffHoursSchedule;
}
