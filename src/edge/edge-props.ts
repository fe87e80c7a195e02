import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Preset } from '../preset/preset';
import { WebTier } from '../web/web-tier';

/**
 * What a user sets on the CloudFront distribution in front of the public load balancer.
 */
export interface EdgeOptions {
  /**
   * The site's domain name on CloudFront. When the web tier has a certificate (HTTPS), this must be
   * a name that certificate covers (normally the web tier's `domainName`): CloudFront forwards the
   * viewer's `Host` header and checks the load balancer's certificate against it.
   *
   * @default - the distribution's `*.cloudfront.net` name (only with an HTTP-only web tier)
   */
  readonly domainName?: string;

  /**
   * The viewer certificate for `domainName`. CloudFront reads certificates from us-east-1 only:
   * create it in a stack of that region (or pass its ARN with `acm.Certificate.fromCertificateArn`).
   *
   * @default - with `hostedZone` in a us-east-1 stack, a DNS-validated certificate is created; otherwise required with `domainName`
   */
  readonly certificate?: acm.ICertificate;

  /**
   * Hosted zone of `domainName`: it gets an alias record to the distribution (and validates the
   * certificate created in a us-east-1 stack).
   *
   * @default - no DNS record
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * ID of the managed prefix list `com.amazonaws.global.cloudfront.origin-facing` of the stack's
   * region (e.g. from `aws ec2 describe-managed-prefix-lists`): the load balancer admits only it.
   * It counts as 55 rules against the security group's rule quota (60 by default).
   *
   * @default - looked up by name at synth (`ec2.PrefixList.fromLookup`; needs a stack with an
   * account and region, and AWS credentials at the first synth, then cached in cdk.context.json)
   */
  readonly originPrefixListId?: string;

  /**
   * Protect the distribution with a CLOUDFRONT-scope WAF web ACL (AWS managed baseline rules and a
   * rate limit). Such a web ACL exists only in us-east-1: in a stack of another region, pass
   * `webAclArn` (an ACL created in a us-east-1 stack) or set `waf: false`.
   *
   * @default true
   */
  readonly waf?: boolean;

  /**
   * ARN of a CLOUDFRONT-scope web ACL of your own (created in us-east-1) instead of the one created here.
   *
   * @default - created here when the stack is in us-east-1 (or its region is unknown at synth)
   */
  readonly webAclArn?: string;

  /**
   * Price class (which edge locations serve viewers).
   *
   * @default cloudfront.PriceClass.PRICE_CLASS_100 (North America and Europe, the cheapest)
   */
  readonly priceClass?: cloudfront.PriceClass;

  /**
   * Countries viewers may (or may not) come from, e.g.
   * `cloudfront.GeoRestriction.allowlist('DE', 'FR')`.
   *
   * @default - viewers from every country
   */
  readonly geoRestriction?: cloudfront.GeoRestriction;

  /**
   * Days CloudFront access logs are kept.
   *
   * @default - from the preset (`accessLogExpirationDays`: dev 30, staging 90, prod 365)
   */
  readonly accessLogExpirationDays?: number;
}

/**
 * Props of the CloudFront distribution in front of the web tier.
 */
export interface EdgeDistributionProps extends EdgeOptions {
  /** The web tier whose public load balancer becomes the origin. */
  readonly web: WebTier;

  /**
   * Bucket the CloudFront log bucket writes its own server access logs to.
   *
   * @default - the web tier's access-log bucket
   */
  readonly serverAccessLogBucket?: s3.IBucket;

  /**
   * Preset that fills in the log expiration.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;
}
