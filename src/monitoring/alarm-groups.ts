import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** The alarms on one compute tier (web or app). */
export interface FleetAlarms {
  /** A target of the tier's load balancer has failed its health check for 5 minutes. */
  readonly unhealthyHosts: cloudwatch.Alarm;
  /** Fewer healthy targets than the group's minimum size for 5 minutes. */
  readonly healthyHostsBelowMinimum: cloudwatch.Alarm;
  /** Fewer instances in service than the group's minimum size for 10 minutes. */
  readonly inServiceBelowMinimum: cloudwatch.Alarm;
  /** Average CPU of the fleet above the threshold for 15 minutes. */
  readonly cpu: cloudwatch.Alarm;
  /** Average memory used (CloudWatch agent) above the threshold for 15 minutes. */
  readonly memory: cloudwatch.Alarm;
  /** The fullest disk (CloudWatch agent) above the threshold for 10 minutes. */
  readonly disk: cloudwatch.Alarm;
  /** Requests blocked by the tier's web ACL above the threshold in 5 minutes (only with WAF on). */
  readonly wafBlockedRequests?: cloudwatch.Alarm;
}

/** The alarms on the database. */
export interface DatabaseAlarms {
  /** Average CPU above the threshold for 15 minutes. */
  readonly cpu: cloudwatch.Alarm;
  /** Free storage space below the threshold for 10 minutes. */
  readonly freeStorage: cloudwatch.Alarm;
  /** Freeable memory below the threshold for 15 minutes. */
  readonly freeableMemory: cloudwatch.Alarm;
  /** Open connections above the threshold for 15 minutes. */
  readonly connections: cloudwatch.Alarm;
}
