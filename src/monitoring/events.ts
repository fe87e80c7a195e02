import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The RDS event categories forwarded for the database instance. */
export const RDS_EVENT_CATEGORIES = ['failover', 'failure', 'availability', 'maintenance', 'low storage', 'recovery'];

/**
 * The EventBridge rule (default event bus) that sends the database instance's operational events to
 * the topic. The fleets' launch and terminate events (successful or not) already reach the same topic
 * through each Auto Scaling group's own notifications, so no rule repeats them (every event would
 * arrive twice). The SNS target adds
 * `sns:Publish` for `events.amazonaws.com` to the topic policy and, for a topic encrypted with a key
 * of this stack, `kms:Decrypt`/`kms:GenerateDataKey*` to the key policy (EventBridge's KMS requests
 * carry no `aws:SourceAccount`, so that grant has no condition).
 */
export function createEventRules(
  scope: Construct, database: rds.IDatabaseInstance, topic: sns.ITopic,
): events.Rule[] {
  const target = new targets.SnsTopic(topic);
  const database_ = new events.Rule(scope, 'DatabaseEvents', {
    description: 'Failover, failure, availability, maintenance, low-storage and recovery events of the platform\'s database',
    eventPattern: {
      source: ['aws.rds'],
      detailType: ['RDS DB Instance Event'],
      detail: {
        SourceType: ['DB_INSTANCE'],
        SourceIdentifier: [database.instanceIdentifier],
        EventCategories: RDS_EVENT_CATEGORIES,
      },
    },
    targets: [target],
  });
  return [database_];
}
