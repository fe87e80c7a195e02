import { Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';

/*
 * One metric factory for the platform's alarms and dashboard, so both watch exactly the same
 * metrics (namespaces, names, dimensions, statistics). Not exported from the package.
 */

/** The CloudWatch agent's namespace and metrics (aggregated by `AutoScalingGroupName`). */
export const AGENT_NAMESPACE = 'CWAgent';
export const AGENT_MEMORY_METRIC = 'mem_used_percent';
export const AGENT_DISK_METRIC = 'disk_used_percent';

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/** Public or internal load balancer metrics (namespace `AWS/ApplicationELB`, dimension `LoadBalancer`). */
export function loadBalancerMetrics(loadBalancer: elbv2.ApplicationLoadBalancer, period: Duration = FIVE_MINUTES) {
  const m = loadBalancer.metrics;
  return {
    requests: m.requestCount({ statistic: cloudwatch.Stats.SUM, period }),
    elb5xx: m.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: cloudwatch.Stats.SUM, period }),
    elb4xx: m.httpCodeElb(elbv2.HttpCodeElb.ELB_4XX_COUNT, { statistic: cloudwatch.Stats.SUM, period }),
    target5xx: m.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: cloudwatch.Stats.SUM, period }),
    target4xx: m.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { statistic: cloudwatch.Stats.SUM, period }),
    latency: (percentile: number) => m.targetResponseTime({ statistic: cloudwatch.Stats.percentile(percentile), period }),
  };
}

/** 5xx responses (the load balancer's and its targets') in percent of requests. */
export function errorRate(loadBalancer: elbv2.ApplicationLoadBalancer, period: Duration = FIVE_MINUTES): cloudwatch.MathExpression {
  const m = loadBalancerMetrics(loadBalancer, period);
  return new cloudwatch.MathExpression({
    expression: '100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests',
    usingMetrics: { elb5xx: m.elb5xx, target5xx: m.target5xx, requests: m.requests },
    label: '5xx in % of requests',
    period,
  });
}

/** Healthy and unhealthy targets of a target group (dimensions `TargetGroup` and `LoadBalancer`), per minute. */
export function targetGroupMetrics(targetGroup: elbv2.ApplicationTargetGroup) {
  return {
    healthy: targetGroup.metrics.healthyHostCount({ statistic: cloudwatch.Stats.MINIMUM, period: ONE_MINUTE }),
    unhealthy: targetGroup.metrics.unhealthyHostCount({ statistic: cloudwatch.Stats.MAXIMUM, period: ONE_MINUTE }),
  };
}

/** An Auto Scaling group metric (`AWS/AutoScaling`, group metrics are enabled on both fleets), per minute. */
export function groupMetric(group: autoscaling.IAutoScalingGroup, metricName: string, statistic: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: group.autoScalingGroupName },
    statistic,
    period: ONE_MINUTE,
  });
}

/** Healthy targets minus the group's minimum size: below 0 when too few instances serve. */
export function healthyBelowMinimum(targetGroup: elbv2.ApplicationTargetGroup, group: autoscaling.IAutoScalingGroup): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(healthy, 0) - minSize',
    usingMetrics: {
      healthy: targetGroupMetrics(targetGroup).healthy,
      minSize: groupMetric(group, 'GroupMinSize', cloudwatch.Stats.MAXIMUM),
    },
    label: 'Healthy targets minus minimum size',
    period: ONE_MINUTE,
  });
}

/** Instances in service minus the group's minimum size: below 0 when the group cannot keep its minimum. */
export function inServiceBelowMinimum(group: autoscaling.IAutoScalingGroup): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'inService - minSize',
    usingMetrics: {
      inService: groupMetric(group, 'GroupInServiceInstances', cloudwatch.Stats.MINIMUM),
      minSize: groupMetric(group, 'GroupMinSize', cloudwatch.Stats.MAXIMUM),
    },
    label: 'In service minus minimum size',
    period: ONE_MINUTE,
  });
}

/** CPU (AWS/EC2), memory and disk (CloudWatch agent) of a fleet, by `AutoScalingGroupName`, over 5 minutes. */
export function fleetMetrics(group: autoscaling.IAutoScalingGroup) {
  const metric = (namespace: string, metricName: string, statistic: string) => new cloudwatch.Metric({
    namespace, metricName, dimensionsMap: { AutoScalingGroupName: group.autoScalingGroupName }, statistic, period: FIVE_MINUTES,
  });
  return {
    cpu: metric('AWS/EC2', 'CPUUtilization', cloudwatch.Stats.AVERAGE),
    memory: metric(AGENT_NAMESPACE, AGENT_MEMORY_METRIC, cloudwatch.Stats.AVERAGE),
    disk: metric(AGENT_NAMESPACE, AGENT_DISK_METRIC, cloudwatch.Stats.MAXIMUM),
  };
}

/**
 * A web ACL's request counts (`AWS/WAFV2`, all rules). The `WebACL` dimension is the metric name
 * of the web ACL's visibility configuration.
 */
export function wafMetric(webAcl: wafv2.CfnWebACL, metricName: 'BlockedRequests' | 'AllowedRequests'): cloudwatch.Metric {
  const visibility = Stack.of(webAcl).resolve(webAcl.visibilityConfig) as wafv2.CfnWebACL.VisibilityConfigProperty;
  return new cloudwatch.Metric({
    namespace: 'AWS/WAFV2',
    metricName,
    dimensionsMap: { WebACL: visibility.metricName, Rule: 'ALL', Region: Stack.of(webAcl).region },
    statistic: cloudwatch.Stats.SUM,
    period: FIVE_MINUTES,
  });
}
