import { CfnOutput, Duration, RemovalPolicy, Tags, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AppSource } from '../app/app-source';
import { AppTier } from '../app/app-tier';
import { DataTier } from '../data/data-tier';
import { resolveNetworkInputs } from '../network/network-inputs';
import { NetworkTier, NetworkTierProps, S3EndpointAccess } from '../network/network-tier';
import { InterfaceEndpointService } from '../network/options/endpoints';
import { EgressMode, NatMode } from '../network/options/nat-mode';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { createAccessLogBucket, createNotificationTopic, enableServerAccessLogs } from '../private/fleet';
import { checkDomainName, checkExactPaths, checkS3Prefix, checkString, invalid } from '../private/validation';
import { WebTier } from '../web/web-tier';

/** The label the internal load balancer's name gets in front of the site's domain. */
const INTERNAL_API_LABEL = 'internal-api';

/**
 * Overrides of the network tier inside the platform.
 */
export interface PlatformNetworkOptions {
  /**
   * IPv4 CIDR of the VPC: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, prefix /16 to /23.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Number of Availability Zones, 2 or 3.
   *
   * @default - from the preset (dev 2, staging 2, prod 3)
   */
  readonly maxAzs?: number;
  /**
   * HTTPS to the internet through NAT, or AWS services only (VPC endpoints, no NAT). Choose
   * `EgressMode.INTERNET_HTTPS` when the API calls services outside AWS.
   *
   * @default - from `natMode` when only that is given, otherwise from the preset (dev and staging
   * `EgressMode.INTERNET_HTTPS`, prod `EgressMode.AWS_SERVICES_ONLY`)
   */
  readonly egress?: EgressMode;
  /**
   * NAT for the web and app subnets (with internet egress).
   *
   * @default - from the preset (dev `NatMode.instance()`, staging `NatMode.singleGateway()`, prod
   * `NatMode.gatewayPerAz()`); `NatMode.none()` with AWS-only egress
   */
  readonly natMode?: NatMode;
  /**
   * Interface VPC endpoints; with AWS-only egress the ones the platform needs are always added.
   *
   * @default - from the preset (dev and staging none, prod all)
   */
  readonly interfaceEndpoints?: InterfaceEndpointService[];
}

/**
 * Overrides of the web tier inside the platform.
 */
export interface PlatformWebOptions {
  /** @default - HTTP only (see `allowHttpOnly`) unless `domainName` + `hostedZone` are given */
  readonly certificate?: acm.ICertificate;
  /** @default - the load balancer's DNS name */
  readonly domainName?: string;
  /** @default - no DNS record */
  readonly hostedZone?: route53.IHostedZone;
  /** @default false */
  readonly allowHttpOnly?: boolean;
  /** @default - a placeholder page */
  readonly siteAssetPath?: string;
  /** @default - from the preset */
  readonly instanceType?: ec2.InstanceType;
  /** @default - from the preset */
  readonly minCapacity?: number;
  /** @default - from the preset */
  readonly maxCapacity?: number;
}

/**
 * The API inside the platform.
 */
export interface PlatformAppOptions {
  /** The API's code. */
  readonly source: AppSource;
  /** @default 'node server.js' */
  readonly startCommand?: string;
  /** @default 8080 */
  readonly port?: number;
  /** @default - none */
  readonly environment?: { [key: string]: string };
  /** @default '/healthz' */
  readonly healthCheckPath?: string;
  /**
   * Exact paths besides `/api/` that the public site also proxies to the API, e.g. a readiness path.
   *
   * @default - none
   */
  readonly publicPaths?: string[];
  /** @default 22 */
  readonly nodeVersion?: number;
  /** @default - from the preset */
  readonly instanceType?: ec2.InstanceType;
  /** @default - from the preset */
  readonly minCapacity?: number;
  /** @default - from the preset */
  readonly maxCapacity?: number;
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
 * Overrides of the data tier inside the platform.
 */
export interface PlatformDataOptions {
  /** @default '8.4.7' */
  readonly engineVersion?: string;
  /** @default - from the preset */
  readonly instanceType?: ec2.InstanceType;
  /** @default - from the preset */
  readonly multiAz?: boolean;
  /** @default 'app' */
  readonly databaseName?: string;
  /** @default true */
  readonly rotation?: boolean;
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
  /** The API. */
  readonly app: PlatformAppOptions;
  /**
   * Project name, tagged on every resource as `project`.
   *
   * @default - the construct id
   */
  readonly projectName?: string;
  /** @default - preset values */
  readonly network?: PlatformNetworkOptions;
  /** @default - preset values, HTTP only unless a certificate or domain is given */
  readonly web?: PlatformWebOptions;
  /** @default - preset values */
  readonly data?: PlatformDataOptions;
  /**
   * An application bucket (KMS-encrypted, versioned, public access blocked, TLS only, retained)
   * that the app tier may read and write, passed to the API as `APP_BUCKET`.
   *
   * @default - no application bucket
   */
  readonly applicationBucket?: PlatformBucketOptions;
}

/**
 * A secure, highly available three-tier web platform: network, web (public ALB + NGINX), app
 * (internal ALB + API) and data (RDS MySQL) tiers, wired so each tier reaches only the next one.
 */
export class ThreeTierPlatform extends Construct {
  /** The preset in effect. */
  public readonly preset: Preset;
  /** The network tier. */
  public readonly network: NetworkTier;
  /** The web tier. */
  public readonly web: WebTier;
  /** The app tier. */
  public readonly app: AppTier;
  /** The data tier. */
  public readonly data: DataTier;
  /** The VPC. */
  public readonly vpc: ec2.Vpc;
  /** The site's URL. */
  public readonly siteUrl: string;
  /** The bucket with both load balancers' access logs. */
  public readonly accessLogBucket: s3.Bucket;
  /** The topic receiving both Auto Scaling Groups' notifications. */
  public readonly notificationTopic: sns.Topic;
  /** The application bucket, if requested. */
  public readonly applicationBucket?: s3.Bucket;
  /** The key of the application bucket, if requested. */
  public readonly applicationBucketKey?: kms.Key;

  constructor(scope: Construct, id: string, props: ThreeTierPlatformProps) {
    super(scope, id);
    this.preset = props.preset;
    const projectName = props.projectName ?? id;
    // Tag values: Unicode letters, digits and spaces, and _ . : / = + - @ (AWS tagging rules).
    if (!Token.isUnresolved(projectName) && (typeof projectName !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N}\p{Zs}_.:/=+@-]{0,127}$/u.test(projectName))) {
      invalid(this, 'projectName', projectName, 'must be 1 to 128 characters valid in a tag value (letters, digits, spaces and _ . : / = + - @), starting with a letter or digit');
    }
    // Values the platform hands to a tier under another name are checked here, under the name the
    // user set, before any tier sees them.
    checkExactPaths(this, 'app.publicPaths', props.app.publicPaths, '/nginx-health');
    checkDomainName(this, 'web.domainName', props.web?.domainName, props.web?.hostedZone);
    const domain = props.web?.domainName;
    if (domain !== undefined && !Token.isUnresolved(domain) && props.web?.hostedZone && (props.app.internalTls ?? true)
      && `${INTERNAL_API_LABEL}.${domain}`.length > 64) {
      invalid(this, 'web.domainName', domain, `must be at most ${64 - INTERNAL_API_LABEL.length - 1} characters with internal TLS on: '${INTERNAL_API_LABEL}.<domainName>' gets a certificate, and ACM allows 64 (or set app.internalTls: false)`);
    }
    if (props.applicationBucket?.seedAssetPath !== undefined) checkString(this, 'applicationBucket.seedAssetPath', props.applicationBucket.seedAssetPath);
    checkS3Prefix(this, 'applicationBucket.seedPrefix', props.applicationBucket?.seedPrefix);
    // Rotation must reach Secrets Manager: without NAT it always has the endpoint; with NAT the
    // rotation function runs in the app subnets and goes out through NAT.
    this.network = this.createNetwork(props.network);
    this.vpc = this.network.vpc;
    const smEndpoint = this.network.endpoint(InterfaceEndpointService.SECRETS_MANAGER);

    this.accessLogBucket = createAccessLogBucket(this, this.preset.values.accessLogExpirationDays);
    this.notificationTopic = createNotificationTopic(this);

    this.data = new DataTier(this, 'Data', {
      vpc: this.vpc,
      vpcSubnets: this.network.dataSubnets,
      preset: this.preset,
      ...props.data,
      rotationEndpoint: smEndpoint,
      rotationSubnets: smEndpoint ? this.network.dataSubnets : this.network.appSubnets,
    });

    const bucketOptions = props.applicationBucket;
    if (bucketOptions) {
      this.applicationBucketKey = new kms.Key(this, 'ApplicationBucketKey', {
        description: `Encrypts the application bucket of ${this.node.path}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.applicationBucket = new s3.Bucket(this, 'ApplicationBucket', {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.applicationBucketKey,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        versioned: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      enableServerAccessLogs(this.applicationBucket, this.accessLogBucket, 'application-bucket/');
      acknowledge(this.applicationBucket, 'logBucketReplication');
    }

    const internalTls = (props.app.internalTls ?? true) && props.web?.domainName && props.web?.hostedZone;
    this.app = new AppTier(this, 'App', {
      domainName: internalTls ? `${INTERNAL_API_LABEL}.${props.web!.domainName}` : undefined,
      hostedZone: internalTls ? props.web!.hostedZone : undefined,
      vpc: this.vpc,
      vpcSubnets: this.network.appSubnets,
      preset: this.preset,
      database: this.data,
      bucket: this.applicationBucket,
      bucketSeedAssetPath: bucketOptions?.seedAssetPath,
      bucketSeedPrefix: bucketOptions?.seedPrefix,
      accessLogBucket: this.accessLogBucket,
      notificationTopic: this.notificationTopic,
      ...props.app,
    });

    this.web = new WebTier(this, 'Web', {
      vpc: this.vpc,
      loadBalancerSubnets: this.network.publicSubnets,
      instanceSubnets: this.network.webSubnets,
      preset: this.preset,
      apiEndpoint: this.app.endpoint,
      apiTlsServerName: this.app.tlsServerName,
      apiExactPaths: props.app.publicPaths,
      accessLogBucket: this.accessLogBucket,
      notificationTopic: this.notificationTopic,
      ...props.web,
    });

    // Each tier reaches only the next one; instances reach AWS through the endpoints or NAT.
    this.app.allowFrom(this.web);
    this.network.allowEgressFrom(this.web);
    this.network.allowEgressFrom(this.app.autoScalingGroup);
    if (!smEndpoint) {
      // Without the endpoint, the rotation and app-user functions reach Secrets Manager through
      // NAT: a NAT instance must admit them too.
      this.network.allowEgressFrom(this.data.appUserFunction);
      if (this.data.rotationSecurityGroup) this.network.allowEgressFrom(this.data.rotationSecurityGroup);
    }
    this.restrictNetwork(smEndpoint !== undefined);

    this.siteUrl = this.web.siteUrl;
    new CfnOutput(this, 'DatabaseEndpoint', { value: this.data.endpointAddress, description: 'Database host (credentials are in the secret)' });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.data.secret.secretArn, description: 'ARN of the database credentials secret' });

    Tags.of(this).add('project', projectName);
    Tags.of(this).add('environment', this.preset.name);
  }

  /**
   * The network tier, its inputs checked first here, so an error names the platform prop the
   * user set (`network.cidr`) rather than the tier's.
   */
  private createNetwork(options: PlatformNetworkOptions = {}): NetworkTier {
    const props: NetworkTierProps = { preset: this.preset, ...options };
    const inputs = resolveNetworkInputs(this, props, 'network.');
    return new NetworkTier(this, 'Network', { ...props, maxAzs: inputs.maxAzs });
  }

  /**
   * Least privilege in the network, once the tiers exist: the S3 endpoint reaches only the
   * platform's buckets, its assets and what AWS-owned buckets instances need; network ACLs admit
   * only the traffic between the tiers, on the ports the tiers use.
   */
  private restrictNetwork(functionsInDataSubnets: boolean): void {
    this.network.restrictS3Endpoint();
    if (this.applicationBucket) this.network.allowS3Bucket(this.applicationBucket, S3EndpointAccess.READ_WRITE);
    // The site, app and seed assets the instances download at boot: exactly those objects.
    // (Functions get their code from Lambda, not through the VPC.)
    for (const asset of [this.web, this.app].flatMap((tier) => tier.node.findAll())) {
      if (!(asset instanceof s3assets.Asset) || asset.node.scopes.some((s) => s instanceof lambda.Function)) continue;
      this.network.allowS3Asset(asset);
    }
    this.network.restrictSubnetTraffic({
      publicListenerPorts: this.web.httpsEnabled ? [80, 443] : [80],
      appListenerPort: this.app.listenerPort,
      appPort: this.app.port,
      databasePort: this.data.port,
      // The rotation and app-user functions run in the data subnets when they use the endpoint.
      dataSubnetFunctions: functionsInDataSubnets,
    });
  }
}
