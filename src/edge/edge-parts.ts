import { Aws, CfnRule, Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledge } from '../private/compliance';
import { enableServerAccessLogs } from '../private/fleet';
import { baselineRules, logWebAcl } from '../private/waf';

/**
 * A deploy-time check that the stack is in us-east-1, for what CloudFront reads only from there
 * (CLOUDFRONT-scope web ACLs, viewer certificates) in a stack whose region synthesis cannot know.
 * Created once per construct.
 */
export function requireUsEast1(scope: Construct, what: string): void {
  if (scope.node.tryFindChild('UsEast1Rule')) return;
  new CfnRule(scope, 'UsEast1Rule', {
    assertions: [{
      assert: Fn.conditionEquals(Aws.REGION, 'us-east-1'),
      assertDescription: `${what} of ${scope.node.path} must be created in us-east-1 (CloudFront reads them only there): deploy this stack to us-east-1, or create them in a us-east-1 stack and pass them in`,
    }],
  });
}

/** Whether the stack is in us-east-1, or its region is unknown at synth (then `requireUsEast1` checks at deploy). */
export function mayBeUsEast1(scope: Construct): boolean {
  const region = Stack.of(scope).region;
  return Token.isUnresolved(region) || region === 'us-east-1';
}

/**
 * The bucket of CloudFront's standard access logs. Standard logging writes with an S3 ACL grant to
 * the log delivery account, so this bucket keeps ACLs enabled (object writer = bucket owner
 * preferred), unlike the platform's log bucket (ACLs disabled); SSE-KMS with a key the log delivery
 * service may use; versioned; public access blocked; its own server access logs to `serverLogs`.
 */
export function createEdgeLogBucket(scope: Construct, key: kms.Key, expirationDays: number, serverLogs: s3.IBucket): s3.Bucket {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudFrontLogDelivery',
    principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
    actions: ['kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
  }));
  const bucket = new s3.Bucket(scope, 'LogBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{
      expiration: Duration.days(expirationDays),
      noncurrentVersionExpiration: Duration.days(7),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  enableServerAccessLogs(bucket, serverLogs, 'cloudfront-log-bucket/');
  acknowledge(bucket, 'logBucketReplication');
  return bucket;
}

/**
 * A CLOUDFRONT-scope web ACL (it must be created in us-east-1): the AWS managed baseline rule
 * groups the regional ACL of the load balancer has, plus a per-IP rate limit, logged to a
 * KMS-encrypted log group (in us-east-1 too, as WAF requires for CloudFront ACLs).
 */
export function createEdgeWebAcl(scope: Construct, logRetention: logs.RetentionDays): wafv2.CfnWebACL {
  const metricName = `${Names.uniqueId(scope)}Edge`.slice(0, 128);
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'CLOUDFRONT',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true },
    rules: [
      ...baselineRules(),
      {
        name: 'RateLimitPerIp',
        priority: 4,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: 'IP' } },
        visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: 'RateLimitPerIp', sampledRequestsEnabled: true },
      },
    ],
  });
  logWebAcl(scope, webAcl, logRetention, 'the CloudFront WAF logs');
  return webAcl;
}
