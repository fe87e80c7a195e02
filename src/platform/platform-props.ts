import { AppTierOptions } from '../app/app-tier-props';
import { CostBudgetOptions } from '../cost/budget';
import { DataTierOptions } from '../data/data-tier-props';
import { EdgeOptions } from '../edge/edge-props';
import { PlatformMonitoringOptions } from '../monitoring/monitoring-options';
import { NetworkTierOptions } from '../network/network-tier-props';
import { Preset } from '../preset/preset';
import { WebTierOptions } from '../web/web-tier-props';

/**
 * Options of the network tier inside the platform: every `NetworkTier` option, under the same
 * names, including an existing VPC (`vpc`) and the subnets of each tier in it.
 */
export interface PlatformNetworkOptions extends NetworkTierOptions {}

/**
 * Options of the web tier inside the platform: every `WebTier` option, under the same names. The
 * platform wires the VPC, subnets, the API endpoint, the access-log bucket and the topic.
 */
export interface PlatformWebOptions extends WebTierOptions {}

/**
 * The API inside the platform: every `AppTier` option, under the same names, and what only the
 * platform can do (publish paths on the public site, TLS between the tiers).
 */
export interface PlatformAppOptions extends AppTierOptions {
  /**
   * Exact paths besides `/api/` that the public site also proxies to the API, e.g. a readiness path.
   *
   * @default - none
   */
  readonly publicPaths?: string[];

  /**
   * Encrypt web-to-app traffic: when the web tier has a `domainName` and `hostedZone`, the internal
   * load balancer gets `internal-api.<domainName>`, a DNS-validated certificate and an HTTPS
   * listener, and NGINX verifies that certificate.
   *
   * @default true
   */
  readonly internalTls?: boolean;
}

/**
 * Options of the data tier inside the platform: every `DataTier` option, under the same names.
 */
export interface PlatformDataOptions extends DataTierOptions {}

/**
 * CloudFront in front of the public load balancer inside the platform: every `EdgeDistribution`
 * option.
 */
export interface PlatformEdgeOptions extends EdgeOptions {}

/**
 * The platform's AWS Budgets budget: every `CostBudget` option.
 */
export interface PlatformBudgetOptions extends CostBudgetOptions {
  /**
   * Create the budget.
   *
   * @default true
   */
  readonly enabled?: boolean;
}

/**
 * The platform's application bucket.
 */
export interface PlatformBucketOptions {
  /**
   * A directory whose files are copied into the bucket at deploy time (e.g. product images): each
   * app instance copies them at boot, before it signals success, so a deployment completes only
   * once they are there. Meant for small sets of reference files.
   *
   * @default - nothing is seeded
   */
  readonly seedAssetPath?: string;

  /**
   * Key prefix of the seeded files (ends with '/').
   *
   * @default - the bucket's root
   */
  readonly seedPrefix?: string;
}

/**
 * Props of the platform.
 */
export interface ThreeTierPlatformProps {
  /** The environment preset: `Preset.dev()`, `Preset.staging()` or `Preset.prod()`. */
  readonly preset: Preset;

  /** The API: its code and every app tier option. */
  readonly app: PlatformAppOptions;

  /**
   * Project name, tagged on every resource as `project`.
   *
   * @default - the construct id
   */
  readonly projectName?: string;

  /**
   * The network: a VPC the platform creates (its CIDR, AZs, egress and endpoints), or an existing
   * VPC and the subnets of each tier in it.
   *
   * @default - a new VPC with the preset's values
   */
  readonly network?: PlatformNetworkOptions;

  /**
   * The public site: domain, certificate, static files, sizes and every other web tier option.
   *
   * @default - the preset's values; HTTP only unless a certificate or a domain and hosted zone are given
   */
  readonly web?: PlatformWebOptions;

  /**
   * The database: engine version, instance type, Multi-AZ, backups and every other data tier option.
   *
   * @default - the preset's values
   */
  readonly data?: PlatformDataOptions;

  /**
   * An application bucket (KMS-encrypted, versioned, public access blocked, TLS only, retained)
   * that the app tier may read and write, passed to the API as `APP_BUCKET`.
   *
   * @default - no application bucket
   */
  readonly applicationBucket?: PlatformBucketOptions;

  /**
   * Alarms (thresholds from the preset, overridable), the platform's dashboard, subscriptions of the
   * notification topic and forwarding of Auto Scaling and RDS events.
   *
   * @default - alarms with the preset's thresholds, one dashboard, events forwarded, no subscription
   */
  readonly monitoring?: PlatformMonitoringOptions;

  /**
   * Put CloudFront in front of the public load balancer: HTTPS to viewers, the load balancer
   * reachable only from CloudFront, WAF at the edge, access logs.
   *
   * @default - no CloudFront
   */
  readonly edge?: PlatformEdgeOptions;

  /**
   * The platform's monthly cost budget on its `project` tag, alerting the notification topic.
   *
   * @default - a budget with the preset's limit (dev 150, staging 500, prod 3000 USD); none when the
   * preset sets no limit and `monthlyLimitUsd` is not given
   */
  readonly budget?: PlatformBudgetOptions;
}
