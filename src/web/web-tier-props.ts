import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { FleetTierOptions } from '../fleet/fleet-tier-options';
import { Preset } from '../preset/preset';

/**
 * Every user-facing option of the web tier (the platform's `web` options are these, under the
 * same names).
 */
export interface WebTierOptions extends FleetTierOptions {
  /**
   * Certificate for the HTTPS listener.
   *
   * @default - none; a DNS-validated one is created when `domainName` and `hostedZone` are given,
   * otherwise the site is served over HTTP only (see `allowHttpOnly`)
   */
  readonly certificate?: acm.ICertificate;

  /**
   * Domain name of the site. With `hostedZone`, a DNS-validated certificate (unless `certificate`
   * is given) and an alias record to the load balancer are created.
   *
   * @default - the load balancer's DNS name
   */
  readonly domainName?: string;

  /**
   * Hosted zone of `domainName`.
   *
   * @default - no DNS record
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * Accept HTTP only (no certificate). Needed in prod; in staging it silences the warning.
   *
   * @default false
   */
  readonly allowHttpOnly?: boolean;

  /**
   * TLS policy of the HTTPS listener.
   *
   * @default elbv2.SslPolicy.RECOMMENDED_TLS (TLS 1.3 and 1.2)
   */
  readonly sslPolicy?: elbv2.SslPolicy;

  /**
   * Directory with the static site, uploaded as an asset and served by NGINX.
   *
   * @default - a placeholder page
   */
  readonly siteAssetPath?: string;

  /**
   * Path the public ALB checks on each instance (answered by NGINX itself).
   *
   * @default '/nginx-health'
   */
  readonly healthCheckPath?: string;

  /**
   * Requests per instance per minute the Auto Scaling Group tracks (1 to 100000).
   *
   * @default 1000
   */
  readonly requestsPerTargetPerMinute?: number;

  /**
   * Days access logs are kept (1 to 3650), when the access-log bucket is created here.
   *
   * @default - from the preset (dev 30, staging 90, prod 365)
   */
  readonly accessLogExpirationDays?: number;
}

/**
 * Props of the web tier: its options and how it is wired into a VPC and to the API.
 */
export interface WebTierProps extends WebTierOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * The API the web tier proxies `/api/` to, as `host:port` (the app tier's internal ALB).
   */
  readonly apiEndpoint: string;

  /**
   * Call the API over TLS, verifying its certificate for this name (set when the app tier's
   * internal load balancer has a certificate).
   *
   * @default - plain HTTP inside the VPC
   */
  readonly apiTlsServerName?: string;

  /**
   * Exact paths besides `/api/` that NGINX also proxies to the API (e.g. its readiness path).
   *
   * @default - none
   */
  readonly apiExactPaths?: string[];

  /**
   * Preset that fills in every value not given here.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;

  /**
   * Subnets of the internet-facing load balancer.
   *
   * @default - the VPC's public subnets
   */
  readonly loadBalancerSubnets?: ec2.SubnetSelection;

  /**
   * Subnets of the NGINX instances.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly instanceSubnets?: ec2.SubnetSelection;

  /**
   * The load balancer is fronted by CloudFront (`EdgeDistribution`): its listeners are not opened to
   * the internet (the distribution admits CloudFront's origin-facing addresses) and no alias record
   * is created for `domainName` (the distribution's record takes the name).
   *
   * @default false
   */
  readonly behindCloudFront?: boolean;
}
