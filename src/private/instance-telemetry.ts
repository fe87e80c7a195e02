import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AGENT_METRICS, renderAgentBootCommands, renderAgentConfig } from './cloudwatch-agent';
import { acknowledge } from './compliance';
import { createLogKey } from './fleet';
import { BootFile } from './shell';

/** A file of the instances shipped to its own log group. */
export interface InstanceLogSource {
  /** Construct id prefix of the log group, e.g. 'NginxAccess' (the group is `<id>LogGroup`). */
  readonly id: string;
  /** Absolute path of the file on the instances. */
  readonly filePath: string;
}

/** What a fleet's telemetry is made of. */
export interface InstanceTelemetryProps {
  /** The files shipped (the system log is one of them). */
  readonly logSources: InstanceLogSource[];
  /** Files the tier adds to the telemetry boot steps (written before rsyslog restarts). */
  readonly files?: BootFile[];
  /** Retention of every log group. */
  readonly retention: logs.RetentionDays;
}

/** The log groups, their key, and the boot steps that install and start the agent. */
export interface InstanceTelemetry {
  readonly logKey: kms.Key;
  /** The log groups by source id. */
  readonly logGroups: { readonly [id: string]: logs.LogGroup };
  readonly agentConfig: string;
  readonly commands: string[];
}

/**
 * Creates a fleet's telemetry: one KMS-encrypted log group per shipped file (retention from the
 * preset or the tier), and the CloudWatch agent's boot steps and configuration.
 */
export function createInstanceTelemetry(scope: Construct, props: InstanceTelemetryProps): InstanceTelemetry {
  const logKey = createLogKey(scope, 'InstanceLogKey', 'the instance log groups');
  const logGroups: { [id: string]: logs.LogGroup } = {};
  for (const source of props.logSources) {
    logGroups[source.id] = new logs.LogGroup(scope, `${source.id}LogGroup`, {
      encryptionKey: logKey,
      retention: props.retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
  const agentConfig = renderAgentConfig({
    logFiles: props.logSources.map((s) => ({ filePath: s.filePath, logGroupName: logGroups[s.id].logGroupName })),
  });
  return { logKey, logGroups, agentConfig, commands: renderAgentBootCommands(agentConfig, props.files) };
}

/**
 * Attaches to the instance role a customer managed policy with exactly what the agent needs:
 * `cloudwatch:PutMetricData` in the `CWAgent` namespace only, `ec2:DescribeTags` (the agent reads
 * the instance's `aws:autoscaling:groupName` tag for the `AutoScalingGroupName` dimension), and
 * writing log streams of the fleet's own log groups. No log group can be created, and no retention
 * changed, by the instances.
 */
export function addTelemetryPolicy(role: iam.IRole, telemetry: InstanceTelemetry): iam.ManagedPolicy {
  const policy = new iam.ManagedPolicy(role, 'TelemetryPolicy', {
    description: `CloudWatch agent on the instances of ${role.node.path}`,
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        sid: 'AgentMetrics',
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': AGENT_METRICS.namespace } },
      }),
      new iam.PolicyStatement({ sid: 'AgentDimensions', actions: ['ec2:DescribeTags'], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'AgentLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: Object.values(telemetry.logGroups).map((g) => g.logGroupArn),
      }),
    ],
  });
  acknowledge(policy, 'agentMetricsAndTags');
  return policy;
}
