import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AppRuntime } from './app-runtime';
import { AppSource } from './app-source';
import { IDataTier } from '../data/data-tier';
import { FleetTierOptions } from '../fleet/fleet-tier-options';
import { Preset } from '../preset/preset';

/**
 * What a user chooses about the API: its code, its runtime, how it starts and listens, and the
 * fleet and load balancer it runs on. `ThreeTierPlatform` takes these as its `app` options.
 */
export interface AppTierOptions extends FleetTierOptions {
  /** The API's code. */
  readonly source: AppSource;

  /**
   * What runs the API: `AppRuntime.nodejs()`, `AppRuntime.python()` (Gunicorn) or
   * `AppRuntime.custom()`, installed at boot.
   *
   * @default AppRuntime.nodejs(22)
   */
  readonly runtime?: AppRuntime;

  /**
   * Command that starts the API: one line, run by `/bin/sh` in the app directory (/opt/app) as the
   * unprivileged user `app`, with the environment below.
   *
   * @default - the runtime's: 'node server.js' (Node.js),
   * `exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 2 app:app` (Python with its
   * default options), the `startCommand` of `AppRuntime.custom()`
   */
  readonly startCommand?: string;

  /**
   * Port the API listens on (1024 to 65535; it runs unprivileged). Passed as `PORT`.
   *
   * @default 8080
   */
  readonly port?: number;

  /**
   * Port of the internal load balancer's listener (1 to 65535).
   *
   * @default - 443 with a certificate, otherwise 80
   */
  readonly listenerPort?: number;

  /**
   * Extra environment variables of the API. `PORT`, `DB_*`, `APP_BUCKET` and `AWS_REGION` are set
   * by the tier; the runtime sets `NODE_ENV=production` (Node.js) or `PYTHONUNBUFFERED=1` (Python),
   * which you may override. Never put secrets here: they would land in the launch template's user
   * data.
   *
   * @default - none
   */
  readonly environment?: { [key: string]: string };

  /**
   * Path the internal load balancer checks on each instance.
   *
   * @default '/healthz'
   */
  readonly healthCheckPath?: string;

  /**
   * Node.js major version, installed from the Amazon Linux 2023 repositories (20, 22 or 24).
   * Cannot be given with `runtime`.
   *
   * @default 22
   * @deprecated use `runtime: AppRuntime.nodejs(version)`
   */
  readonly nodeVersion?: number;
}

/**
 * Props of the app tier: the options, and how it is wired into a VPC and to the other tiers.
 */
export interface AppTierProps extends AppTierOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * Preset that fills in every value not given here.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;

  /**
   * Subnets of the internal load balancer and the instances.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Certificate of the internal load balancer: with it, the listener is HTTPS and the web tier
   * verifies the certificate for `domainName`.
   *
   * @default - a DNS-validated certificate when `domainName` and `hostedZone` are given, otherwise
   * HTTP inside the VPC
   */
  readonly certificate?: acm.ICertificate;

  /**
   * Domain name of the internal load balancer (what the certificate is for).
   *
   * @default - the load balancer's DNS name
   */
  readonly domainName?: string;

  /**
   * Hosted zone for `domainName`: gets an alias record to the internal load balancer and the
   * certificate's validation records.
   *
   * @default - no DNS record
   */
  readonly hostedZone?: route53.IHostedZone;

  /**
   * The database the API uses: it gets `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER` (the data tier's
   * app user) and `DB_AUTH=iam`, may connect as that user with IAM database authentication (never
   * with the master credentials), and may reach the database port.
   *
   * @default - no database
   */
  readonly database?: IDataTier;

  /**
   * A bucket the API may read and write, passed as `APP_BUCKET`.
   *
   * @default - none
   */
  readonly bucket?: s3.IBucket;

  /**
   * A directory copied into `bucket` (under `bucketSeedPrefix`) by each instance at boot, before
   * the API starts: deployments finish only after it is there. Meant for small reference files.
   *
   * @default - nothing is seeded
   */
  readonly bucketSeedAssetPath?: string;

  /**
   * Key prefix of the seeded files (ends with '/').
   *
   * @default - the bucket's root
   */
  readonly bucketSeedPrefix?: string;
}
