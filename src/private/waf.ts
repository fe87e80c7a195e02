import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createLogKey } from './fleet';

function managedRuleGroup(name: string, priority: number, countOnly: string[] = []): wafv2.CfnWebACL.RuleProperty {
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
    rules: [
      managedRuleGroup('AWSManagedRulesAmazonIpReputationList', 0),
      managedRuleGroup('AWSManagedRulesCommonRuleSet', 1, ['SizeRestrictions_BODY']),
      managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 2),
      managedRuleGroup('AWSManagedRulesSQLiRuleSet', 3),
    ],
  });
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: loadBalancer.loadBalancerArn,
    webAclArn: webAcl.attrArn,
  });
  // WAF logs go to a KMS-encrypted log group whose name must start with 'aws-waf-logs-'.
  const logGroupName = `aws-waf-logs-${Names.uniqueResourceName(webAcl, { maxLength: 200, separator: '-' })}`;
  const logGroup = new logs.LogGroup(scope, 'WafLogGroup', {
    logGroupName,
    retention: logRetention,
    encryptionKey: createLogKey(scope, 'WafLogKey', 'the WAF logs'),
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
  return webAcl;
}
