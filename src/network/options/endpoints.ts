/**
 * AWS services that can get an interface VPC endpoint in the network tier.
 */
export enum InterfaceEndpointService {
  /** Systems Manager (Session Manager, parameters). */
  SSM = 'ssm',
  /** Session Manager channels. */
  SSM_MESSAGES = 'ssmmessages',
  /** Systems Manager agent messages. */
  EC2_MESSAGES = 'ec2messages',
  /** Secrets Manager (database credentials, rotation). */
  SECRETS_MANAGER = 'secretsmanager',
  /** CloudWatch Logs. */
  CLOUDWATCH_LOGS = 'logs',
  /** KMS. */
  KMS = 'kms',
  /** CloudFormation (instance signals during rolling updates). */
  CLOUDFORMATION = 'cloudformation',
  /** CloudWatch metrics (the CloudWatch agent's memory and disk metrics). */
  CLOUDWATCH_MONITORING = 'monitoring',
  /** EC2 API (the CloudWatch agent reads its instance's Auto Scaling group from the instance tags). */
  EC2 = 'ec2',
}
