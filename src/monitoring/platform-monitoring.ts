import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DatabaseAlarms, FleetAlarms } from './alarm-groups';
import { allAlarms, createAlarms } from './alarms';
import { createDashboard } from './dashboard';
import { createEventRules } from './events';
import { PlatformMonitoringProps } from './monitoring-options';
import { resolveThresholds } from './threshold-values';
import { Preset } from '../preset/preset';
import { invalid } from '../private/validation';

/** An e-mail address as SNS accepts it (addr-spec with a dotted domain, at most 254 characters). */
const EMAIL = /^(?=.{3,254}$)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/** A dashboard name CloudWatch accepts. */
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/**
 * Alarms, one dashboard and event notifications for a three-tier platform: every alarm (and its
 * return to OK) and the forwarded RDS events go to the platform's topic, which
 * e-mail addresses and any SNS subscription can receive.
 */
export class PlatformMonitoring extends Construct {
  /** Every alarm, for actions of your own (`alarm.addAlarmAction(...)`). */
  public readonly alarms: cloudwatch.Alarm[];
  /** 5xx responses of the public load balancer in percent of its requests. */
  public readonly errorRateAlarm: cloudwatch.Alarm;
  /** p99 response time of the public load balancer's targets. */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** The web tier's alarms. */
  public readonly webAlarms: FleetAlarms;
  /** The app tier's alarms. */
  public readonly appAlarms: FleetAlarms;
  /** The database's alarms. */
  public readonly databaseAlarms: DatabaseAlarms;
  /** The platform's dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** The EventBridge rule forwarding the database's RDS events to the topic (empty with `events: false`; launch and terminate events come from the groups' own notifications). */
  public readonly eventRules: events.Rule[];
  /** The topic alarms and events go to. */
  public readonly topic: sns.ITopic;

  constructor(scope: Construct, id: string, props: PlatformMonitoringProps) {
    super(scope, id);
    this.topic = props.topic;
    const preset = (props.preset ?? Preset.dev()).values;
    const thresholds = resolveThresholds(this, preset.alarmThresholds, props.thresholds);
    this.checkDashboardName(props.dashboardName);
    this.subscribe(props.alarmEmails ?? [], props.subscriptions ?? []);

    const created = createAlarms(this, props.web, props.app, props.data, thresholds);
    this.errorRateAlarm = created.errorRate;
    this.latencyAlarm = created.latency;
    this.webAlarms = created.web;
    this.appAlarms = created.app;
    this.databaseAlarms = created.database;
    this.alarms = allAlarms(created);
    this.notifyTopic();

    this.dashboard = createDashboard(this, props.web, props.app, props.data, this.alarms, props.dashboardName);
    this.eventRules = (props.events ?? true)
      ? createEventRules(this, props.data.database, this.topic)
      : [];
  }

  /**
   * Alarm and OK actions to the topic. CloudWatch may publish to it (and use its key, when the
   * topic is encrypted with a key of this stack) only for alarms of this account and region.
   */
  private notifyTopic(): void {
    const action = new actions.SnsAction(this.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    const stack = Stack.of(this);
    this.topic.grantPublish(new iam.ServicePrincipal('cloudwatch.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': Arn.format({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack) },
      },
    }));
  }

  private subscribe(emails: string[], others: sns.ITopicSubscription[]): void {
    if (!Array.isArray(emails)) invalid(this, 'alarmEmails', emails, 'must be a list of e-mail addresses');
    const seen = new Set<string>();
    emails.forEach((email, i) => {
      if (typeof email === 'string' && Token.isUnresolved(email)) return;
      if (typeof email !== 'string' || !EMAIL.test(email)) {
        invalid(this, `alarmEmails[${i}]`, email, 'must be an e-mail address such as ops@example.com (local part, @, a domain with a dot; at most 254 characters)');
      }
      if (seen.has(email.toLowerCase())) invalid(this, `alarmEmails[${i}]`, email, 'is listed twice (SNS subscribes each address once)');
      seen.add(email.toLowerCase());
    });
    for (const email of emails) this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const subscription of others) this.topic.addSubscription(subscription);
  }

  private checkDashboardName(name: string | undefined): void {
    if (name === undefined || Token.isUnresolved(name)) return;
    if (typeof name !== 'string' || !DASHBOARD_NAME.test(name)) {
      invalid(this, 'dashboardName', name, 'must be 1 to 255 letters, digits, "-" or "_"');
    }
  }
}
