import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { newStack, PRESETS, PresetName } from './support/stacks';
import { onlyResource } from './support/template';
import { CostBudget, CostBudgetProps } from '../src/cost/budget';

type TopicKind = 'encrypted' | 'plain' | 'imported-key';
type Input = Omit<Partial<CostBudgetProps>, 'topic'> & { topic?: TopicKind };

function synth(props: Input = {}, preset: PresetName = 'dev') {
  const stack = newStack();
  const { topic: kind, ...rest } = props;
  const topic = kind && makeTopic(stack, kind);
  const budget = new CostBudget(stack, 'Budget', { tagValue: 'shop', preset: PRESETS[preset](), topic, ...rest });
  return { stack, budget, template: Template.fromStack(stack) };
}

function makeTopic(stack: Stack, kind: TopicKind): sns.ITopic {
  if (kind === 'plain') return new sns.Topic(stack, 'Topic', { enforceSSL: true });
  const masterKey = kind === 'encrypted'
    ? new kms.Key(stack, 'Key', { enableKeyRotation: true })
    : kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555');
  return new sns.Topic(stack, 'Topic', { masterKey, enforceSSL: true });
}

const budgetOf = (t: Template) => onlyResource(t, 'AWS::Budgets::Budget').properties;

test.each<[PresetName, number]>([['dev', 150], ['staging', 500], ['prod', 3000]])('%s: a monthly cost budget of %i USD on the project tag', (preset, usd) => {
  const { template } = synth({ emails: ['ops@example.com'] }, preset);
  expect(budgetOf(template).Budget).toEqual({
    BudgetType: 'COST',
    TimeUnit: 'MONTHLY',
    BudgetLimit: { Amount: usd, Unit: 'USD' },
    CostFilters: { TagKeyValue: ['user:project$shop'] },
  });
  expect(PRESETS[preset]().values.monthlyBudgetUsd).toBe(usd);
});

test('alerts at 80 % actual and 100 % forecasted by default, to the topic and the e-mails', () => {
  const { template } = synth({ topic: 'plain', emails: ['ops@example.com'] });
  const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
  const subscribers = [{ SubscriptionType: 'SNS', Address: { Ref: topicId } }, { SubscriptionType: 'EMAIL', Address: 'ops@example.com' }];
  expect(budgetOf(template).NotificationsWithSubscribers).toEqual([
    { Notification: { NotificationType: 'ACTUAL', Threshold: 80, ComparisonOperator: 'GREATER_THAN', ThresholdType: 'PERCENTAGE' }, Subscribers: subscribers },
    { Notification: { NotificationType: 'FORECASTED', Threshold: 100, ComparisonOperator: 'GREATER_THAN', ThresholdType: 'PERCENTAGE' }, Subscribers: subscribers },
  ]);
});

test('overrides: limit, thresholds (0 turns one off), tag key', () => {
  const { template } = synth({ monthlyLimitUsd: 42, actualThresholdPercent: 50, forecastedThresholdPercent: 0, tagKey: 'app', emails: ['a@b.io'] }, 'prod');
  const budget = budgetOf(template);
  expect(budget.Budget.BudgetLimit.Amount).toBe(42);
  expect(budget.Budget.CostFilters).toEqual({ TagKeyValue: ['user:app$shop'] });
  expect(budget.NotificationsWithSubscribers.map((n: any) => [n.Notification.NotificationType, n.Notification.Threshold])).toEqual([['ACTUAL', 50]]);
});

test('the topic policy lets AWS Budgets of this account publish', () => {
  const { template } = synth({ topic: 'plain' });
  const statements = onlyResource(template, 'AWS::SNS::TopicPolicy').properties.PolicyDocument.Statement;
  expect(statements).toContainEqual(expect.objectContaining({
    Sid: 'AllowBudgetsPublish',
    Effect: 'Allow',
    Action: 'sns:Publish',
    Principal: { Service: 'budgets.amazonaws.com' },
    Condition: {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':budgets::', { Ref: 'AWS::AccountId' }, ':*']] } },
    },
  }));
});

test('an encrypted topic: its key policy lets AWS Budgets use the key', () => {
  const { template } = synth({ topic: 'encrypted' });
  const statements = onlyResource(template, 'AWS::KMS::Key').properties.KeyPolicy.Statement;
  expect(statements).toContainEqual(expect.objectContaining({
    Sid: 'AllowBudgetsUseOfTheKey', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Principal: { Service: 'budgets.amazonaws.com' },
  }));
});

test.each<[string, Input, RegExp]>([
  ['a topic encrypted with an imported key', { topic: 'imported-key' }, /^topic \(.*\) is encrypted with a key this stack cannot change/],
  ['no subscriber', {}, /^emails \(\[\]\) must name at least one address when there is no topic in Stack\/Budget$/],
  ['a bad e-mail', { emails: ['ops'] }, /^emails \('ops'\) entries must be e-mail addresses/],
  ['11 e-mails', { emails: Array.from({ length: 11 }, (_, i) => `o${i}@x.io`) }, /^emails .* must be a list of at most 10/],
  ['a zero limit', { monthlyLimitUsd: 0, emails: ['a@b.io'] }, /^monthlyLimitUsd \(0\) must be more than 0/],
  ['a threshold over 1000', { actualThresholdPercent: 1001, emails: ['a@b.io'] }, /^actualThresholdPercent \(1001\) must be an integer from 0 to 1000/],
  ['both alerts off', { actualThresholdPercent: 0, forecastedThresholdPercent: 0, emails: ['a@b.io'] }, /must not both be 0/],
])('invalid: %s', (_, props, message) => {
  expect(() => synth(props)).toThrow(message);
});
