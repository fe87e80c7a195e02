import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createLogKey } from './fleet';

/** An AWS managed rule group, with the rules given in `countOnly` only counting. */
export function managedRuleGroup(name: string, priority: number, countOnly: string[] = []): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ruleActionOverrides: countOnly.length > 0 ? countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) : undefined,
      },
    },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}

/**
 * Creates a regional web ACL with the AWS managed baseline rule groups (core rule set, known bad
 * inputs, IP reputation, SQL injection) and associates it with the load balancer. The core rule
 * set's 8 KB body limit only counts, so file uploads keep working (NGINX limits bodies instead).
 * (aws-cdk-lib has no L2 for WAFv2, so this uses the L1 resources.)
 */
export function protectWithWaf(
  scope: Construct,
  loadBalancer: elbv2.ApplicationLoadBalancer,
  metricName: string,
  logRetention: logs.RetentionDays,
): wafv2.CfnWebACL {
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true },
    rules: baselineRules(),
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: loadBalancer.loadBalancerArn,
    webAclArn: webAcl.attrArn,
  });
  logWebAcl(scope, webAcl, logRetention, 'the WAF logs');
  return webAcl;
}

/**
 * The AWS managed baseline rule groups every web ACL of the library has (IP reputation, core rule
 * set with its 8 KB body limit only counting, known bad inputs, SQL injection), priorities 0 to 3.
 */
export function baselineRules(): wafv2.CfnWebACL.RuleProperty[] {
  return [
    managedRuleGroup('AWSManagedRulesAmazonIpReputationList', 0),
    managedRuleGroup('AWSManagedRulesCommonRuleSet', 1, ['SizeRestrictions_BODY']),
    managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 2),
    managedRuleGroup('AWSManagedRulesSQLiRuleSet', 3),
  ];
}

/**
 * Logs a web ACL to a KMS-encrypted log group (WAF requires the name to start with
 * 'aws-waf-logs-'), kept when the stack is deleted.
 */
export function logWebAcl(scope: Construct, webAcl: wafv2.CfnWebACL, logRetention: logs.RetentionDays, purpose: string): void {
  const logGroupName = `aws-waf-logs-${Names.uniqueResourceName(webAcl, { maxLength: 200, separator: '-' })}`;
  const logGroup = new logs.LogGroup(scope, 'WafLogGroup', {
    logGroupName,
    retention: logRetention,
    encryptionKey: createLogKey(scope, 'WafLogKey', purpose),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const logging = new wafv2.CfnLoggingConfiguration(scope, 'WafLogging', {
    resourceArn: webAcl.attrArn,
    logDestinationConfigs: [Stack.of(scope).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })],
  });
  logging.node.addDependency(logGroup);
}
