import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { acknowledge } from './compliance';

/**
 * The Session Manager channels the SSM agent opens. These actions have no resource-level
 * permissions: IAM accepts only `*` for them.
 */
export const SESSION_CHANNEL_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
];

/** The SSM agent's registration and heartbeat; its resource is the calling EC2 instance. */
export const AGENT_HEARTBEAT_ACTIONS = ['ssm:UpdateInstanceInformation'];

/** Every EC2 instance of the stack's account and region (instance IDs are assigned at launch). */
export const INSTANCES_OF_THIS_ACCOUNT = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/*`;

/**
 * Attaches to an instance role a customer managed policy with what Session Manager needs on the
 * instance, and nothing else: the agent's heartbeat (`ssm:UpdateInstanceInformation`, on EC2
 * instances of this account and region) and the four `ssmmessages` channel actions (on `*`: they
 * have no resource-level permissions).
 *
 * Left out of AmazonSSMManagedInstanceCore on purpose: `ssm:GetParameter`/`ssm:GetParameters` (any
 * parameter of the account), documents, associations, inventory, patching and Run Command
 * (`ec2messages:*`). Session logging to S3 or CloudWatch Logs and KMS-encrypted sessions (account
 * preferences of Session Manager) need more: add them to the tier's `role`.
 */
export function addSessionManagerPolicy(role: iam.IRole): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(role, 'SessionManagerPolicy', {
    description: `Session Manager on the instances of ${role.node.path}`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({ sid: 'AgentHeartbeat', actions: AGENT_HEARTBEAT_ACTIONS, resources: [INSTANCES_OF_THIS_ACCOUNT] }),
      new iam.PolicyStatement({ sid: 'SessionChannels', actions: SESSION_CHANNEL_ACTIONS, resources: ['*'] }),
    ],
  });
  acknowledge(policy, 'sessionManagerChannels');
  acknowledge(policy, 'agentHeartbeatOnInstances');
  return policy;
}
