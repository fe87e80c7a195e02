import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';

// The SDK's notice about Node 20 support says nothing about this project's deployments.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where stacks go: an emulator endpoint (moto) or real AWS. */
export interface Target {
  /** The emulator's endpoint; undefined for real AWS. */
  readonly endpoint?: string;
  readonly region: string;
  /** True for an emulator: templates are adapted (see emulator.ts) and fake credentials are used. */
  readonly emulator: boolean;
}

/** Fake credentials for the emulator (moto accepts any). */
const EMULATOR_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The SDK clients of a target. */
export interface Clients {
  readonly cfn: CloudFormationClient;
  readonly ec2: EC2Client;
  readonly rds: RDSClient;
  readonly asg: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
  readonly s3: S3Client;
}

export function clientsFor(target: Target): Clients {
  const common = {
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.emulator ? { credentials: EMULATOR_CREDENTIALS } : {}),
    maxAttempts: 5,
  };
  return {
    cfn: new CloudFormationClient(common),
    ec2: new EC2Client(common),
    rds: new RDSClient(common),
    asg: new AutoScalingClient(common),
    elb: new ElasticLoadBalancingV2Client(common),
    ssm: new SSMClient(common),
    s3: new S3Client({ ...common, forcePathStyle: target.emulator }),
  };
}

/** Environment for child processes (CDK apps, the CDK CLI) that must not reach any AWS account. */
export function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(AWS_|CDK_DEFAULT_)/.test(k)) delete env[k];
  }
  return {
    ...env,
    // no credentials anywhere: the examples use their placeholder account and fixed AZs
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
    ...extra,
  };
}
