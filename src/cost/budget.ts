import { Aws, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { Preset } from '../preset/preset';
import { propOrPreset } from '../private/resolve';
import { checkIntRange, invalid, isConcrete } from '../private/validation';

/**
 * What a user sets on the platform's cost budget.
 */
export interface CostBudgetOptions {
  /**
   * Monthly cost limit in USD.
   *
   * @default - from the preset (dev 150, staging 500, prod 3000)
   */
  readonly monthlyLimitUsd?: number;

  /**
   * Alert when the month's actual cost passes this percentage of the limit (1 to 1000; 0 turns the
   * alert off).
   *
   * @default 80
   */
  readonly actualThresholdPercent?: number;

  /**
   * Alert when the month's forecasted cost passes this percentage of the limit (1 to 1000; 0 turns
   * the alert off). AWS needs about 5 weeks of usage data before it forecasts.
   *
   * @default 100
   */
  readonly forecastedThresholdPercent?: number;

  /**
   * E-mail addresses AWS Budgets writes to directly (at most 10), on top of the topic.
   *
   * @default - none
   */
  readonly emails?: string[];
}

/**
 * Props of a cost budget.
 */
export interface CostBudgetProps extends CostBudgetOptions {
  /**
   * The value of the cost allocation tag the budget counts: only costs of resources tagged
   * `tagKey=tagValue` count. The tag must be activated as a cost allocation tag (Billing console,
   * Cost allocation tags) before AWS Budgets sees it; it appears there up to 24 hours after the
   * first tagged resource exists, and costs count from activation on.
   */
  readonly tagValue: string;

  /**
   * The key of the cost allocation tag.
   *
   * @default 'project' (the tag the platform puts on every resource)
   */
  readonly tagKey?: string;

  /**
   * A topic the alerts go to. Its policy is extended so AWS Budgets may publish, and when it is
   * encrypted with a customer managed key of this stack, that key's policy too.
   *
   * @default - no topic (give `emails`)
   */
  readonly topic?: sns.ITopic;

  /**
   * Preset that fills in the limit.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * An AWS Budgets cost budget: a monthly limit in USD for the costs carrying a cost allocation tag,
 * with an alert at a percentage of actual cost and one of forecasted cost, to a topic and/or e-mail
 * addresses.
 */
export class CostBudget extends Construct {
  /** The budget (aws-cdk-lib has no L2 for AWS Budgets). */
  public readonly budget: budgets.CfnBudget;
  /** The monthly limit in USD. */
  public readonly monthlyLimitUsd: number;

  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;
    const limit = propOrPreset('monthlyLimitUsd', props.monthlyLimitUsd, preset, 'monthlyBudgetUsd');
    if (limit.value === undefined) invalid(this, limit.source, undefined, 'must be a number of USD (the preset sets none)');
    if (isConcrete(limit.value) && !(limit.value > 0 && limit.value <= 1e9)) invalid(this, limit.source, limit.value, 'must be more than 0 and at most 1000000000 (USD)');
    this.monthlyLimitUsd = limit.value;
    const subscribers = this.subscribers(props);
    const tagKey = props.tagKey ?? 'project';
    this.budget = new budgets.CfnBudget(this, 'Budget', {
      budget: {
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: limit.value, unit: 'USD' },
        costFilters: { TagKeyValue: [`user:${tagKey}$${props.tagValue}`] },
      },
      notificationsWithSubscribers: this.notifications(props).map((notification) => ({ notification, subscribers })),
    });
    if (props.topic) allowBudgetsToPublish(this, props.topic);
  }

  private subscribers(props: CostBudgetProps): budgets.CfnBudget.SubscriberProperty[] {
    const emails = props.emails ?? [];
    if (!Array.isArray(emails) || emails.length > 10) invalid(this, 'emails', emails, 'must be a list of at most 10 e-mail addresses (AWS Budgets limit per notification)');
    for (const email of emails) {
      if (typeof email !== 'string' || (!Token.isUnresolved(email) && !EMAIL.test(email))) invalid(this, 'emails', email, 'entries must be e-mail addresses');
    }
    if (!props.topic && emails.length === 0) invalid(this, 'emails', emails, 'must name at least one address when there is no topic');
    return [
      ...(props.topic ? [{ subscriptionType: 'SNS', address: props.topic.topicArn }] : []),
      ...emails.map((address) => ({ subscriptionType: 'EMAIL', address })),
    ];
  }

  private notifications(props: CostBudgetProps): budgets.CfnBudget.NotificationProperty[] {
    const actual = props.actualThresholdPercent ?? 80;
    const forecasted = props.forecastedThresholdPercent ?? 100;
    checkIntRange(this, 'actualThresholdPercent', actual, 0, 1000);
    checkIntRange(this, 'forecastedThresholdPercent', forecasted, 0, 1000);
    const notifications = [
      { notificationType: 'ACTUAL', threshold: actual },
      { notificationType: 'FORECASTED', threshold: forecasted },
    ].filter((n) => n.threshold !== 0).map((n) => ({ ...n, comparisonOperator: 'GREATER_THAN', thresholdType: 'PERCENTAGE' }));
    if (notifications.length === 0) invalid(this, 'actualThresholdPercent', 0, 'and forecastedThresholdPercent (0) must not both be 0: the budget would never alert');
    return notifications;
  }
}

/**
 * Lets AWS Budgets of this account publish to the topic, and use the topic's key when it is a
 * customer managed key of this stack. A topic or key this stack cannot change is an error rather than
 * a warning: every alert would be lost silently.
 */
function allowBudgetsToPublish(scope: Construct, topic: sns.ITopic): void {
  const principal = new iam.ServicePrincipal('budgets.amazonaws.com');
  const conditions = {
    StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
  };
  const added = topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowBudgetsPublish', principals: [principal], actions: ['sns:Publish'], resources: [topic.topicArn], conditions,
  }));
  if (!added.statementAdded) invalid(scope, 'topic', topic.topicArn, 'must be a topic whose policy this stack can extend (AWS Budgets needs sns:Publish on it)');
  const key = topic.masterKey;
  if (!key) return;
  const keyAdded = key instanceof kms.Key && key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowBudgetsUseOfTheKey', principals: [principal], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions,
  })).statementAdded;
  if (!keyAdded) {
    invalid(scope, 'topic', topic.topicArn, 'is encrypted with a key this stack cannot change: AWS Budgets may only publish to it when the key policy allows budgets.amazonaws.com kms:Decrypt and kms:GenerateDataKey*; use a topic with a key of this stack, or emails only');
  }
}
