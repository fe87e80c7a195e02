import { CfnOutput, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { createApplicationBucket, INTERNAL_API_LABEL, checkPlatformProps, platformAssets } from './platform-parts';
import { PlatformAppOptions, PlatformDataOptions, PlatformNetworkOptions, ThreeTierPlatformProps } from './platform-props';
import { AppTier } from '../app/app-tier';
import { CostBudget } from '../cost/budget';
import { DataTier } from '../data/data-tier';
import { EdgeDistribution } from '../edge/edge';
import { PlatformMonitoring } from '../monitoring/platform-monitoring';
import { resolveNetworkInputs } from '../network/network-inputs';

import { NetworkTier, S3EndpointAccess } from '../network/network-tier';
import { NetworkTierProps } from '../network/network-tier-props';
import { InterfaceEndpointService } from '../network/options/endpoints';
import { Preset } from '../preset/preset';
import { createAccessLogBucket, createNotificationTopic } from '../private/fleet';
import { WebTier } from '../web/web-tier';

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
  /** The VPC: the one the platform created, or the existing one it was given. */
  public readonly vpc: ec2.IVpc;
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
  /** The platform's alarms, dashboard and event notifications. */
  public readonly monitoring: PlatformMonitoring;
  /** CloudFront in front of the public load balancer, with `edge`. */
  public readonly edge?: EdgeDistribution;
  /** The monthly cost budget, unless `budget: { enabled: false }`. */
  public readonly budget?: CostBudget;

  constructor(scope: Construct, id: string, props: ThreeTierPlatformProps) {
    super(scope, id);
    this.preset = props.preset;
    // Values the platform hands to a tier under another name are checked first, under the name
    // the user set, before any tier sees them.
    checkPlatformProps(this, props, id);
    this.network = this.createNetwork(props.network);
    this.vpc = this.network.vpc;
    const smEndpoint = this.network.endpoint(InterfaceEndpointService.SECRETS_MANAGER);

    const expiration = props.web?.accessLogExpirationDays;
    this.accessLogBucket = createAccessLogBucket(this, expiration ?? this.preset.values.accessLogExpirationDays,
      expiration === undefined ? 'preset.values.accessLogExpirationDays' : 'web.accessLogExpirationDays');
    this.notificationTopic = createNotificationTopic(this);
    this.data = this.createData(props.data, smEndpoint);
    if (props.applicationBucket) {
      const { bucket, key } = createApplicationBucket(this, this.accessLogBucket);
      this.applicationBucket = bucket;
      this.applicationBucketKey = key;
    }
    this.app = this.createApp(props);
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
      behindCloudFront: props.edge !== undefined,
      ...props.web,
    });
    this.connectTiers(smEndpoint !== undefined);
    this.restrictNetwork(smEndpoint !== undefined);

    this.monitoring = new PlatformMonitoring(this, 'Monitoring', {
      web: this.web,
      app: this.app,
      data: this.data,
      topic: this.notificationTopic,
      preset: this.preset,
      ...props.monitoring,
    });
    this.edge = this.createEdge(props);
    this.budget = this.createBudget(props, id);
    this.siteUrl = this.edge?.siteUrl ?? this.web.siteUrl;
    new CfnOutput(this, 'DatabaseEndpoint', { value: this.data.endpointAddress, description: 'Database host (credentials are in the secret)' });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.data.secret.secretArn, description: 'ARN of the database credentials secret' });
    Tags.of(this).add('project', props.projectName ?? id);
    Tags.of(this).add('environment', this.preset.name);
  }

  /**
   * Lets a principal (e.g. a Lambda function of your own) read the application bucket's objects,
   * including decrypting them with its key.
   */
  public grantApplicationBucketRead(grantee: iam.IGrantable): iam.Grant {
    return this.requireApplicationBucket('grantApplicationBucketRead').grantRead(grantee);
  }

  /**
   * Lets a principal read, write and delete the application bucket's objects, including using its key.
   */
  public grantApplicationBucketReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.requireApplicationBucket('grantApplicationBucketReadWrite').grantReadWrite(grantee);
  }

  /**
   * Lets a principal connect to the database with IAM database authentication as the app user
   * (`rds-db:connect`); network access is separate (`data.connections`).
   */
  public grantDatabaseConnect(grantee: iam.IGrantable): iam.Grant {
    return this.data.grantConnect(grantee);
  }

  private requireApplicationBucket(method: string): s3.Bucket {
    if (!this.applicationBucket) {
      throw new Error(`${method}() needs the application bucket in ${this.node.path}: pass applicationBucket: {} to create it`);
    }
    return this.applicationBucket;
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
   * The data tier. Rotation and the app-user function must reach Secrets Manager: with the
   * endpoint they run in the data subnets; without it, in the app subnets, through NAT.
   */
  private createData(options: PlatformDataOptions | undefined, smEndpoint?: ec2.IInterfaceVpcEndpoint): DataTier {
    return new DataTier(this, 'Data', {
      vpc: this.vpc,
      vpcSubnets: this.network.dataSubnets,
      preset: this.preset,
      ...options,
      rotationEndpoint: smEndpoint,
      rotationSubnets: smEndpoint ? this.network.dataSubnets : this.network.appSubnets,
    });
  }

  private createApp(props: ThreeTierPlatformProps): AppTier {
    const { publicPaths, internalTls, ...options }: PlatformAppOptions = props.app;
    const tls = (internalTls ?? true) && props.web?.domainName && props.web?.hostedZone;
    return new AppTier(this, 'App', {
      domainName: tls ? `${INTERNAL_API_LABEL}.${props.web!.domainName}` : undefined,
      hostedZone: tls ? props.web!.hostedZone : undefined,
      vpc: this.vpc,
      vpcSubnets: this.network.appSubnets,
      preset: this.preset,
      database: this.data,
      bucket: this.applicationBucket,
      bucketSeedAssetPath: props.applicationBucket?.seedAssetPath,
      bucketSeedPrefix: props.applicationBucket?.seedPrefix,
      accessLogBucket: this.accessLogBucket,
      notificationTopic: this.notificationTopic,
      ...options,
    });
  }

  private createEdge(props: ThreeTierPlatformProps): EdgeDistribution | undefined {
    if (!props.edge) return undefined;
    return new EdgeDistribution(this, 'Edge', {
      web: this.web,
      preset: this.preset,
      serverAccessLogBucket: this.accessLogBucket,
      domainName: this.web.httpsEnabled ? props.web?.domainName : undefined,
      hostedZone: props.web?.hostedZone,
      ...props.edge,
    });
  }

  private createBudget(props: ThreeTierPlatformProps, id: string): CostBudget | undefined {
    const { enabled, ...options } = props.budget ?? {};
    if (!(enabled ?? true)) return undefined;
    // A preset without a limit (custom presets written before budgets existed) means no budget, as
    // PresetValues documents, unless a limit is given here.
    if (options.monthlyLimitUsd === undefined && this.preset.values.monthlyBudgetUsd === undefined) return undefined;
    return new CostBudget(this, 'Budget', { tagValue: props.projectName ?? id, topic: this.notificationTopic, preset: this.preset, ...options });
  }

  /**
   * Each tier reaches only the next one; instances reach AWS through the endpoints or NAT.
   */
  private connectTiers(functionsUseEndpoint: boolean): void {
    this.app.allowFrom(this.web.instanceConnections);
    this.network.allowEgressFrom(this.web.instanceConnections);
    this.network.allowEgressFrom(this.app.instanceConnections);
    if (!functionsUseEndpoint) {
      // Without the endpoint, the rotation and app-user functions reach Secrets Manager through
      // NAT: a NAT instance must admit them too.
      this.network.allowEgressFrom(this.data.appUserFunction);
      if (this.data.rotationSecurityGroup) this.network.allowEgressFrom(this.data.rotationSecurityGroup);
    }
  }

  /**
   * Least privilege in the network, once the tiers exist: the S3 endpoint reaches only the
   * platform's buckets, its assets and what AWS-owned buckets instances need; network ACLs admit
   * only the traffic between the tiers, on the ports the tiers use.
   */
  private restrictNetwork(functionsInDataSubnets: boolean): void {
    this.network.restrictS3Endpoint();
    if (this.applicationBucket) this.network.allowS3Bucket(this.applicationBucket, S3EndpointAccess.READ_WRITE);
    for (const asset of platformAssets([this.web, this.app])) this.network.allowS3Asset(asset);
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
