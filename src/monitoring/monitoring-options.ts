import * as sns from 'aws-cdk-lib/aws-sns';
import { AppTier } from '../app/app-tier';
import { DataTier } from '../data/data-tier';
import { AlarmThresholds } from '../preset/alarm-thresholds';
import { Preset } from '../preset/preset';
import { WebTier } from '../web/web-tier';

/**
 * What a user chooses about the platform's monitoring: alarm thresholds, who is notified, the
 * dashboard's name and which events are forwarded.
 */
export interface PlatformMonitoringOptions {
  /**
   * Alarm thresholds; each field set here wins over the preset's.
   *
   * @default - the preset's `alarmThresholds` (see `AlarmThresholds` for each preset's values)
   */
  readonly thresholds?: AlarmThresholds;
  /**
   * E-mail addresses subscribed to the notification topic (alarms, their recovery, and the
   * forwarded events). Each address must confirm the subscription from the e-mail SNS sends.
   *
   * @default - no e-mail subscription
   */
  readonly alarmEmails?: string[];
  /**
   * Further subscriptions of the notification topic, e.g. `new subscriptions.SqsSubscription(queue)`
   * or `new subscriptions.LambdaSubscription(fn)` (a chat or paging integration).
   *
   * @default - none
   */
  readonly subscriptions?: sns.ITopicSubscription[];
  /**
   * Name of the CloudWatch dashboard (letters, digits, `-` and `_`, up to 255 characters; unique in
   * the account and region).
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * Forward the database's failover, failure, availability, maintenance, low-storage and recovery
   * events to the topic through EventBridge. (Launch and terminate events of both groups, successful
   * or not, reach the topic through the groups' own notifications either way.)
   *
   * @default true
   */
  readonly events?: boolean;
}

/**
 * The tiers `PlatformMonitoring` watches and the topic it notifies, plus the user's options.
 */
export interface PlatformMonitoringProps extends PlatformMonitoringOptions {
  /** The web tier (public load balancer, NGINX fleet, its web ACL). */
  readonly web: WebTier;
  /** The app tier (internal load balancer, API fleet, its web ACL). */
  readonly app: AppTier;
  /** The data tier (the RDS instance). */
  readonly data: DataTier;
  /**
   * The topic alarms (and their OK state) and events go to. When it is encrypted with a key of
   * this stack (`sns.Topic` with `masterKey`), CloudWatch and EventBridge are allowed to use the key.
   */
  readonly topic: sns.ITopic;
  /**
   * The preset whose `alarmThresholds` apply.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;
}
