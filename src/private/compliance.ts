import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The cdk-nag packs the library is checked against, by rule-ID prefix. */
export const PACK_PREFIXES = ['AwsSolutions', 'NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321'];

/**
 * One acknowledgement the library makes: the rules (without pack prefix where the rule exists in
 * several packs) and the reason a security reviewer is given.
 */
export interface Acknowledgement {
  /** Full rule IDs, e.g. `AwsSolutions-EC23` or `NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW`. */
  readonly rules: string[];
  /** Why the finding is accepted. */
  readonly reason: string;
}

const everyPack = (rule: string) => PACK_PREFIXES.slice(1).map((p) => `${p}-${rule}`);

/**
 * Every acknowledgement the library makes. The README lists these (generated from this table) and
 * a test fails when a synthesized stack carries an acknowledgement that is not here.
 */
export const ACKNOWLEDGEMENTS = {
  publicLoadBalancerOpen: {
    rules: ['AwsSolutions-EC23'],
    reason: 'The internet-facing load balancer is the public entry point: it must accept 443 (and 80 for the redirect) from anywhere; it forwards only to the web instances, and WAF filters requests.',
  },
  publicRouteToInternetGateway: {
    rules: everyPack('VPCNoUnrestrictedRouteToIGW'),
    reason: 'Only the public subnets route 0.0.0.0/0 to the internet gateway: they hold nothing but the internet-facing load balancer and NAT; instances and the database are in subnets without such a route.',
  },
  sessionManagerChannels: {
    rules: ['AwsSolutions-IAM5[Resource::*]'],
    reason: 'Session Manager channels: ssmmessages:CreateControlChannel, ssmmessages:CreateDataChannel, ssmmessages:OpenControlChannel and ssmmessages:OpenDataChannel have no resource-level permissions, so IAM accepts only "*" for them. The instance policy grants nothing else on "*" (no ssm:GetParameter*).',
  },
  agentMetricsAndTags: {
    rules: ['AwsSolutions-IAM5[Resource::*]'],
    reason: 'The CloudWatch agent: cloudwatch:PutMetricData and ec2:DescribeTags have no resource-level permissions, so IAM accepts only "*"; PutMetricData is limited to the CWAgent namespace by a condition, and the log actions are granted on the fleet\'s own log groups only.',
  },
  spotLaunchTemplateInMixedPolicy: {
    rules: ['AwsSolutions-EC26', 'NIST.800.53.R5-EC2IMDSv2Enabled', 'HIPAA.Security-EC2IMDSv2Enabled'],
    reason: 'With spot instances the Auto Scaling group names its launch template inside its mixed instances policy, where the rules do not look: that launch template requires IMDSv2 (hop limit 1) and encrypts the root volume with the fleet\'s customer managed key, as the on-demand fleets\' does.',
  },
  agentHeartbeatOnInstances: {
    rules: ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]'],
    reason: 'ssm:UpdateInstanceInformation (the SSM agent registering and reporting its instance) acts on the calling instance, whose ID Auto Scaling assigns at launch: it is granted on EC2 instances of this account and region only.',
  },
  awsManagedMonitoringPolicy: {
    rules: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]'],
    reason: 'AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS enhanced monitoring requires; it only writes the RDSOSMetrics log group.',
  },
  awsManagedBackupPolicy: {
    rules: [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores]',
    ],
    reason: 'The AWS Backup service role policies are AWS-maintained and scoped to the backup selection.',
  },
  defaultDatabasePort: {
    rules: ['AwsSolutions-RDS11'],
    reason: 'A non-default port is obscurity, not a control: the database is in isolated subnets and its security group admits only the app tier (and the rotation and app-user functions) on that port.',
  },
  logBucketReplication: {
    rules: everyPack('S3BucketReplicationEnabled'),
    reason: 'Buckets are versioned and retained; cross-region replication is a disaster-recovery decision with its own cost and data-residency questions, left to the user (add a replication rule on the exposed bucket).',
  },
  accessLogBucketSseS3: {
    rules: everyPack('S3DefaultEncryptionKMS'),
    reason: 'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (S3-managed keys), not SSE-KMS.',
  },
  accessLogBucketNoServerAccessLogs: {
    rules: ['AwsSolutions-S1', ...everyPack('S3BucketLoggingEnabled')],
    reason: 'This is the log bucket itself: logging it into itself would loop, and another log bucket would only move the question.',
  },
  internalListenerHttp: {
    rules: [...everyPack('ALBHttpToHttpsRedirection'), ...everyPack('ELBv2ACMCertificateRequired')],
    reason: 'The internal load balancer is reachable only from the web tier security group inside the VPC; TLS on it would need a private CA. Traffic between tiers never leaves the VPC.',
  },
  httpRedirectListener: {
    rules: everyPack('ELBv2ACMCertificateRequired'),
    reason: 'The HTTP listener only answers with a permanent redirect to HTTPS; it serves no content, so it has no certificate.',
  },
  httpOnlyChosen: {
    rules: [...everyPack('ALBHttpToHttpsRedirection'), ...everyPack('ELBv2ACMCertificateRequired')],
    reason: 'HTTP only was chosen explicitly (no certificate, allowed by the preset or by allowHttpOnly); give a certificate or domain to serve HTTPS.',
  },
  natInstance: {
    rules: [
      'AwsSolutions-EC28', 'AwsSolutions-EC29',
      ...everyPack('EC2InstanceNoPublicIp'), ...everyPack('EC2InstanceDetailedMonitoringEnabled'),
      ...everyPack('EC2IMDSv2Enabled'), ...everyPack('EC2InstanceProfileAttached'),
      'NIST.800.53.R5-EC2EBSOptimizedInstance', 'HIPAA.Security-EC2EBSOptimizedInstance',
      'AwsSolutions-EC26', ...everyPack('EC2InstancesInVPC'),
    ],
    reason: 'NatMode.instance() (the dev preset) is a single cheap NAT instance: it needs a public IP to forward traffic, is replaceable, and carries no data. Use a NAT gateway mode for production.',
  },
  networkAcls: {
    rules: ['AwsSolutions-VPC3'],
    reason: 'Network ACLs are a second layer under the security groups, asked for by the design: each subnet group admits only the ports of the traffic between the tiers and their return traffic. The rules are generated from the tiers\' ports, and a test proves they permit every security-group connection and nothing beyond the documented return traffic.',
  },
  noDeletionProtection: {
    rules: ['AwsSolutions-RDS10', ...everyPack('RDSInstanceDeletionProtectionEnabled'), ...everyPack('ELBDeletionProtectionEnabled')],
    reason: 'Deletion protection is off by the preset (dev, staging) or by choice, so the environment can be torn down; the prod preset turns it on.',
  },
  singleAzDatabase: {
    rules: ['AwsSolutions-RDS3', ...everyPack('RDSMultiAZSupport')],
    reason: 'The dev preset runs a single-AZ database to halve its cost; staging and prod are Multi-AZ.',
  },
  noBackupPlan: {
    rules: [...everyPack('RDSInBackupPlan')],
    reason: 'The preset turns off the AWS Backup plan to save cost; RDS automated backups with point-in-time recovery remain on.',
  },
  noWaf: {
    rules: ['NIST.800.53.R5-ALBWAFEnabled', 'PCI.DSS.321-ALBWAFEnabled'],
    reason: 'WAF was turned off explicitly (waf: false).',
  },
  seedFunction: {
    rules: [
      'AwsSolutions-L1', ...everyPack('LambdaConcurrency'), ...everyPack('LambdaDLQ'), ...everyPack('LambdaInsideVPC'),
      'AwsSolutions-IAM5[Resource::<ApplicationBucket>/*]', 'AwsSolutions-IAM5[Resource::<CDK assets bucket>/*]',
    ],
    reason: 'The seed function (aws-cdk-lib BucketDeployment) runs only during deployments, invoked by CloudFormation: it needs no concurrency limit or dead-letter queue, reaches S3 and the assets bucket without a VPC, and its runtime is chosen by aws-cdk-lib.',
  },
  awsManagedLambdaPolicy: {
    rules: [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    ],
    reason: 'AWSLambdaBasicExecutionRole (logs) and AWSLambdaVPCAccessExecutionRole (logs and the network interfaces of a function in a VPC) are the AWS-maintained minimum for the two functions that create the app user; EC2 network interface actions have no resource-level scoping Lambda can work with.',
  },
  appUserFunction: {
    rules: ['AwsSolutions-L1', ...everyPack('LambdaConcurrency'), ...everyPack('LambdaDLQ')],
    reason: 'The app-user function runs only during deployments, invoked synchronously by the custom resource provider: a dead-letter queue would never receive an event, and reserved concurrency would take capacity from the account for a function that runs seconds per deployment. Its runtime is Node.js 22 (supported, LTS), the version its bundle is built for.',
  },
  customResourceProvider: {
    rules: ['AwsSolutions-L1', ...everyPack('LambdaConcurrency'), ...everyPack('LambdaDLQ'), ...everyPack('LambdaInsideVPC')],
    reason: 'The custom resource provider (aws-cdk-lib provider framework) runs only during deployments, invoked by CloudFormation: it needs no concurrency limit or dead-letter queue, runs outside the VPC because it only invokes the app-user function and answers CloudFormation through a pre-signed S3 URL (it never reaches the database), and its runtime is chosen by aws-cdk-lib.',
  },
  providerInvokesFunctionVersions: {
    rules: ['AwsSolutions-IAM5[Resource::<app-user function>.Arn:*]'],
    reason: 'The provider may invoke exactly one function, the app-user function; the :* suffix (added by aws-cdk-lib) covers that function\'s versions and aliases, nothing else.',
  },
  objectLevelWildcards: {
    rules: ['AwsSolutions-IAM5[objects of one bucket]'],
    reason: 'Object keys are chosen at run time: access is granted to the objects (bucket ARN + /*) of exactly one bucket, never to other buckets; KMS actions are limited to that bucket key.',
  },
  logRetentionFunction: {
    rules: ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'AwsSolutions-IAM5[Resource::*]'],
    reason: 'aws-cdk-lib\'s LogRetention function sets the retention of the log groups RDS creates itself (named after the generated instance identifier) at deploy time: it logs with the AWS-maintained basic execution policy, and aws-cdk-lib grants logs:PutRetentionPolicy and logs:DeleteRetentionPolicy on "*".',
  },
  edgeOriginSecretRotation: {
    rules: ['AwsSolutions-SMG4', ...everyPack('SecretsManagerRotationEnabled')],
    reason: 'The CloudFront origin header secret is resolved by CloudFormation into both the distribution and the load balancer\'s listener rule at deploy time; both must change together, so it is rotated by a deployment, not by a rotation function.',
  },
  edgeNoGeoRestriction: {
    rules: ['AwsSolutions-CFR1'],
    reason: 'The site serves every country unless geoRestriction is given.',
  },
  edgeDefaultCertificate: {
    rules: ['AwsSolutions-CFR4'],
    reason: 'Without a domainName the distribution uses the *.cloudfront.net certificate, whose TLS policy CloudFront does not let anyone set.',
  },
  edgeHttpOrigin: {
    rules: ['AwsSolutions-CFR5'],
    reason: 'The web tier has no certificate, so CloudFront reaches the load balancer over HTTP (a synth warning says so: cdk-three-tier:edgeHttpOrigin).',
  },
  edgeNoWaf: {
    rules: ['AwsSolutions-CFR2'],
    reason: 'waf: false was chosen for the distribution.',
  },
} satisfies Record<string, Acknowledgement>;

/** The names of the acknowledgements. */
export type AcknowledgementName = keyof typeof ACKNOWLEDGEMENTS;

/**
 * Acknowledges findings on one construct (and its children). `findings` lists the exact finding IDs
 * where a rule reports per-finding IDs (e.g. `AwsSolutions-IAM5[Resource::...]`); otherwise the
 * acknowledgement's rules are used as they are.
 */
export function acknowledge(scope: IConstruct, name: AcknowledgementName, findings?: string[]): void {
  const ack = ACKNOWLEDGEMENTS[name];
  const reason = `[cdk-three-tier:${name}] ${ack.reason}`;
  for (const id of findings ?? ack.rules) {
    if (id.includes('::')) {
      // Finding IDs such as `AwsSolutions-IAM4[Policy::arn:...]` contain '::', which
      // `Validations.acknowledge()` reserves for its prefix: record them in the same metadata entry
      // it writes (and cdk-nag reads) directly.
      const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
      const previous = scope.node.metadata.filter((m) => m.type === key).pop()?.data ?? {};
      scope.node.addMetadata(key, { ...previous, [id]: reason });
    } else {
      Validations.of(scope).acknowledge({ id, reason });
    }
  }
}
