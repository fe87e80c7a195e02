/**
 * Every resource type the estimate knows: priced ones with their estimator, free ones with the
 * reason they cost nothing (or are priced on another type). A type in neither list is an error of
 * the estimate (test/cost.test.ts): no silent omissions.
 */
import { Estimator } from './context';
import { estimateBackupPlans, estimateBudgetActions, estimateBuckets, estimateDatabases, estimateKeys, estimateParameters, estimateSecrets } from './data';
import { estimateAutoScalingGroups, estimateInstances } from './fleet';
import { estimateDistributions, estimateElasticIps, estimateLoadBalancers, estimateNatGateways, estimateVpcEndpoints } from './network';
import { estimateAlarms, estimateCompositeAlarms, estimateDashboards, estimateFlowLogs, estimateLogGroups, estimateWebAcls } from './observability';

export const PRICED_TYPES: Readonly<Record<string, Estimator>> = {
  'AWS::AutoScaling::AutoScalingGroup': estimateAutoScalingGroups,
  'AWS::EC2::Instance': estimateInstances,
  'AWS::ElasticLoadBalancingV2::LoadBalancer': estimateLoadBalancers,
  'AWS::EC2::NatGateway': estimateNatGateways,
  'AWS::EC2::EIP': estimateElasticIps,
  'AWS::EC2::VPCEndpoint': estimateVpcEndpoints,
  'AWS::EC2::FlowLog': estimateFlowLogs,
  'AWS::CloudFront::Distribution': estimateDistributions,
  'AWS::RDS::DBInstance': estimateDatabases,
  'AWS::Backup::BackupPlan': estimateBackupPlans,
  'AWS::S3::Bucket': estimateBuckets,
  'AWS::KMS::Key': estimateKeys,
  'AWS::SecretsManager::Secret': estimateSecrets,
  'AWS::Logs::LogGroup': estimateLogGroups,
  'AWS::WAFv2::WebACL': estimateWebAcls,
  'AWS::CloudWatch::Alarm': estimateAlarms,
  'AWS::CloudWatch::CompositeAlarm': estimateCompositeAlarms,
  'AWS::CloudWatch::Dashboard': estimateDashboards,
  'AWS::Budgets::BudgetsAction': estimateBudgetActions,
  'AWS::SSM::Parameter': estimateParameters,
};

const NO_CHARGE = 'no charge';
const DEPLOY_TIME = 'a deploy-time custom resource: its function runs on stack create, update and delete only';

export const FREE_TYPES: Readonly<Record<string, string>> = {
  'AWS::CDK::Metadata': NO_CHARGE,
  'AWS::IAM::Role': NO_CHARGE,
  'AWS::IAM::Policy': NO_CHARGE,
  'AWS::IAM::ManagedPolicy': NO_CHARGE,
  'AWS::IAM::InstanceProfile': NO_CHARGE,
  'AWS::EC2::VPC': NO_CHARGE,
  'AWS::EC2::Subnet': NO_CHARGE,
  'AWS::EC2::RouteTable': NO_CHARGE,
  'AWS::EC2::SubnetRouteTableAssociation': NO_CHARGE,
  'AWS::EC2::Route': NO_CHARGE,
  'AWS::EC2::InternetGateway': 'no charge (data out is priced on the public load balancer)',
  'AWS::EC2::VPCGatewayAttachment': NO_CHARGE,
  'AWS::EC2::SecurityGroup': NO_CHARGE,
  'AWS::EC2::SecurityGroupIngress': NO_CHARGE,
  'AWS::EC2::SecurityGroupEgress': NO_CHARGE,
  'AWS::EC2::NetworkAcl': NO_CHARGE,
  'AWS::EC2::NetworkAclEntry': NO_CHARGE,
  'AWS::EC2::SubnetNetworkAclAssociation': NO_CHARGE,
  'AWS::EC2::PrefixList': NO_CHARGE,
  'AWS::EC2::LaunchTemplate': 'priced with its Auto Scaling group (instances, volumes, monitoring)',
  'AWS::AutoScaling::ScalingPolicy': NO_CHARGE,
  'AWS::AutoScaling::ScheduledAction': 'no charge; its effect on instance-hours is priced with the Auto Scaling group',
  'AWS::AutoScaling::LifecycleHook': NO_CHARGE,
  'AWS::ElasticLoadBalancingV2::Listener': NO_CHARGE,
  'AWS::ElasticLoadBalancingV2::ListenerRule': NO_CHARGE,
  'AWS::ElasticLoadBalancingV2::ListenerCertificate': NO_CHARGE,
  'AWS::ElasticLoadBalancingV2::TargetGroup': NO_CHARGE,
  'AWS::CertificateManager::Certificate': 'public certificates are free',
  'AWS::Route53::RecordSet': 'alias queries to load balancers and distributions are free (the hosted zone is the user\'s)',
  'AWS::WAFv2::WebACLAssociation': NO_CHARGE,
  'AWS::WAFv2::LoggingConfiguration': 'no charge; the logs are priced with their log group',
  'AWS::Logs::ResourcePolicy': NO_CHARGE,
  'AWS::Logs::MetricFilter': NO_CHARGE,
  'AWS::Logs::SubscriptionFilter': NO_CHARGE,
  'AWS::KMS::Alias': NO_CHARGE,
  'AWS::S3::BucketPolicy': NO_CHARGE,
  'AWS::SNS::Topic': 'pay per use: the first million publishes and 1,000 e-mails a month are free; alarms and events publish far fewer',
  'AWS::SNS::TopicPolicy': NO_CHARGE,
  'AWS::SNS::Subscription': 'pay per use, see AWS::SNS::Topic',
  'AWS::Events::Rule': 'events from AWS services on the default event bus are free',
  'AWS::Budgets::Budget': 'budgets without actions are free',
  'AWS::SecretsManager::SecretTargetAttachment': NO_CHARGE,
  'AWS::SecretsManager::ResourcePolicy': NO_CHARGE,
  'AWS::SecretsManager::RotationSchedule': 'no charge; the rotation function runs once per rotation (see AWS::Serverless::Application)',
  'AWS::Serverless::Application': 'the rotation function from the Serverless Application Repository: one invocation per rotation, within cents',
  'AWS::RDS::DBParameterGroup': NO_CHARGE,
  'AWS::RDS::OptionGroup': NO_CHARGE,
  'AWS::RDS::DBSubnetGroup': NO_CHARGE,
  'AWS::Backup::BackupVault': 'no charge; the recovery points are priced with the backup plan',
  'AWS::Backup::BackupSelection': 'no charge; the recovery points are priced with the backup plan',
  'AWS::Lambda::Function': 'pay per use: these functions run at deploy time or on events, a few seconds a month (cents at most)',
  'AWS::Lambda::Permission': NO_CHARGE,
  'AWS::CloudFront::OriginAccessControl': NO_CHARGE,
  'AWS::CloudFront::CachePolicy': NO_CHARGE,
  'AWS::CloudFront::OriginRequestPolicy': NO_CHARGE,
  'AWS::CloudFront::ResponseHeadersPolicy': NO_CHARGE,
  'Custom::VpcRestrictDefaultSG': DEPLOY_TIME,
  'Custom::AppUser': DEPLOY_TIME,
  'Custom::LogRetention': DEPLOY_TIME,
  'AWS::CloudFormation::CustomResource': DEPLOY_TIME,
};

/** How the estimate treats a type: priced, free (with the reason), or unknown. */
export function classify(type: string): { kind: 'priced'; estimator: Estimator } | { kind: 'free'; reason: string } | { kind: 'unknown' } {
  if (PRICED_TYPES[type]) return { kind: 'priced', estimator: PRICED_TYPES[type] };
  if (FREE_TYPES[type]) return { kind: 'free', reason: FREE_TYPES[type] };
  return { kind: 'unknown' };
}
