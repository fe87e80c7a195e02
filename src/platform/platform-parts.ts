import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct, IConstruct } from 'constructs';
import { ThreeTierPlatformProps } from './platform-props';
import { acknowledge } from '../private/compliance';
import { enableServerAccessLogs } from '../private/fleet';
import { checkDomainName, checkExactPaths, checkS3Prefix, checkString, invalid } from '../private/validation';

/** The label the internal load balancer's name gets in front of the site's domain. */
export const INTERNAL_API_LABEL = 'internal-api';

/**
 * Checks what the platform hands to a tier under another name, under the name the user set
 * (`app.publicPaths`, `web.domainName`, ...), before any tier sees it.
 */
export function checkPlatformProps(scope: Construct, props: ThreeTierPlatformProps, id: string): void {
  const projectName = props.projectName ?? id;
  // Tag values: Unicode letters, digits and spaces, and _ . : / = + - @ (AWS tagging rules).
  if (!Token.isUnresolved(projectName) && (typeof projectName !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N}\p{Zs}_.:/=+@-]{0,127}$/u.test(projectName))) {
    invalid(scope, 'projectName', projectName, 'must be 1 to 128 characters valid in a tag value (letters, digits, spaces and _ . : / = + - @), starting with a letter or digit');
  }
  checkExactPaths(scope, 'app.publicPaths', props.app.publicPaths, props.web?.healthCheckPath ?? '/nginx-health');
  checkDomainName(scope, 'web.domainName', props.web?.domainName, props.web?.hostedZone);
  const domain = props.web?.domainName;
  if (domain !== undefined && !Token.isUnresolved(domain) && props.web?.hostedZone && (props.app.internalTls ?? true)
    && `${INTERNAL_API_LABEL}.${domain}`.length > 64) {
    invalid(scope, 'web.domainName', domain, `must be at most ${64 - INTERNAL_API_LABEL.length - 1} characters with internal TLS on: '${INTERNAL_API_LABEL}.<domainName>' gets a certificate, and ACM allows 64 (or set app.internalTls: false)`);
  }
  if (props.applicationBucket?.seedAssetPath !== undefined) checkString(scope, 'applicationBucket.seedAssetPath', props.applicationBucket.seedAssetPath);
  checkS3Prefix(scope, 'applicationBucket.seedPrefix', props.applicationBucket?.seedPrefix);
}

/**
 * The application bucket and its key: KMS-encrypted with a bucket key, versioned, public access
 * blocked, TLS 1.2+ only, retained, server access logs to the platform's log bucket.
 */
export function createApplicationBucket(scope: Construct, logBucket: s3.IBucket): { bucket: s3.Bucket; key: kms.Key } {
  const key = new kms.Key(scope, 'ApplicationBucketKey', {
    description: `Encrypts the application bucket of ${scope.node.path}`,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const bucket = new s3.Bucket(scope, 'ApplicationBucket', {
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  enableServerAccessLogs(bucket, logBucket, 'application-bucket/');
  acknowledge(bucket, 'logBucketReplication');
  return { bucket, key };
}

/**
 * The S3 assets instances download at boot (site, app, seed): the S3 endpoint admits exactly
 * those objects. Functions get their code from Lambda, not through the VPC, so theirs are left out.
 */
export function platformAssets(tiers: IConstruct[]): s3assets.Asset[] {
  return tiers.flatMap((tier) => tier.node.findAll())
    .filter((c): c is s3assets.Asset => c instanceof s3assets.Asset && !c.node.scopes.some((s) => s instanceof lambda.Function));
}
