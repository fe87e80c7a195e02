import { Aws, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * S3 buckets owned by AWS that instances in the VPC read through the S3 gateway endpoint. A
 * restricted endpoint policy must name them; an instance role needs no permission for them.
 *
 * Sources: the `al2023-repos-<region>-de612dc2` buckets are where the dnf mirror lists of Amazon
 * Linux 2023 point (the same suffix in every region); the SSM Agent buckets are those of the
 * Systems Manager user guide, "SSM Agent communications with AWS managed S3 buckets" and
 * "Reference: Amazon S3 buckets for patching operations".
 */

/** Patch Manager's command-document bucket of each region (`aws-patch-manager-<region>-<suffix>`). */
const PATCH_MANAGER_SUFFIX: Record<string, string> = {
  'us-east-2': '552881074',
  'us-east-1': '1970c647d',
  'us-west-1': '8badb4304',
  'us-west-2': '34d7f99f8',
  'af-south-1': 'bdd5f65a9',
  'ap-east-1': '632356271',
  'ap-south-2': '32f4b4128',
  'ap-southeast-3': 'aa48fc462',
  'ap-southeast-4': '01e2c40d3',
  'ap-south-1': 'cb7c62ff9',
  'ap-northeast-3': '67373598a',
  'ap-northeast-2': '10467995c',
  'ap-southeast-1': '7fdfd9ef7',
  'ap-southeast-2': '17283a275',
  'ap-northeast-1': '4849fa78f',
  'ca-central-1': '3148e69e3',
  'ca-west-1': '9e3a4b2f9',
  'eu-central-1': '9163fdaaf',
  'eu-west-1': '5522fb710',
  'eu-west-2': '902a2bc74',
  'eu-south-1': 'c52f3f594',
  'eu-west-3': '29bf85721',
  'eu-south-2': 'a4cf248b1',
  'eu-north-1': '795879e9b',
  'eu-central-2': '184ce43c8',
  'il-central-1': 'e221cb57b',
  'me-south-1': 'a53fc9dce',
  'me-central-1': '2932f2f80',
  'sa-east-1': 'ddf4b6a09',
};

/** Regions whose patch baseline snapshot bucket has a suffix (elsewhere it is `patch-baseline-snapshot-<region>`). */
const PATCH_SNAPSHOT_SUFFIX: Record<string, string> = {
  'af-south-1': 'tbxdb5b9',
  'ap-south-2': '50209442',
  'ap-southeast-3': 'be0a3174',
  'ap-southeast-4': 'dc6f76ce',
  'eu-south-2': 'df2c9d70',
  'me-south-1': 'uduvl7q8',
};

/** The AWS-owned buckets, by purpose, with object ARNs (`arn:<partition>:s3:::<bucket>/*`). */
export interface AwsOwnedBuckets {
  /** The Amazon Linux 2023 package repositories (dnf). */
  readonly packageRepositories: string[];
  /** What SSM Agent reads for Session Manager, Run Command modules, agent updates and patching. */
  readonly ssmAgent: string[];
  /** Whether the patching buckets are included (they have per-region names, known only for a literal region in the table). */
  readonly patching: boolean;
}

const objects = (bucket: string) => `arn:${Aws.PARTITION}:s3:::${bucket}/*`;

/**
 * The AWS-owned buckets instances in the stack's region read. Patch Manager's buckets carry a
 * per-region suffix: they are included when the stack has a literal region listed above.
 *
 * - `al2023-repos-<region>-de612dc2`: packages and mirror lists of Amazon Linux 2023.
 * - `amazon-ssm-<region>`: SSM Agent updates (`AWS-UpdateSSMAgent`).
 * - `aws-ssm-<region>`: modules of SSM Command documents, patching included.
 * - `patch-baseline-snapshot-<region>[-suffix]` and `aws-patch-manager-<region>-<suffix>`:
 *   `AWS-RunPatchBaseline` and the other Patch Manager documents.
 *
 * Session Manager itself needs no bucket (unless session logs go to S3, which is the user's own
 * bucket); Windows-only buckets, Distributor and document attachments are left out.
 */
export function awsOwnedBuckets(scope: IConstruct): AwsOwnedBuckets {
  const region = Stack.of(scope).region;
  const ssmAgent = [objects(`amazon-ssm-${region}`), objects(`aws-ssm-${region}`)];
  const literal = !Token.isUnresolved(region);
  const patching = literal && PATCH_MANAGER_SUFFIX[region] !== undefined;
  if (patching) {
    const snapshot = PATCH_SNAPSHOT_SUFFIX[region] ? `patch-baseline-snapshot-${region}-${PATCH_SNAPSHOT_SUFFIX[region]}` : `patch-baseline-snapshot-${region}`;
    ssmAgent.push(objects(snapshot), objects(`aws-patch-manager-${region}-${PATCH_MANAGER_SUFFIX[region]}`));
  }
  return {
    packageRepositories: [objects(`al2023-repos-${region}-de612dc2`)],
    ssmAgent,
    patching,
  };
}
