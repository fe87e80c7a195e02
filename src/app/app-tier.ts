import { Aws, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AppSource } from './app-source';
import { APP_PATHS, renderAppBootCommands } from './boot';
import { IDataTier } from '../data/data-tier';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { createAccessLogBucket, createFleet, createNotificationTopic } from '../private/fleet';
import { addAliasRecord, certificateFor, createFront } from '../private/load-balancer';
import { propOrPreset } from '../private/resolve';
import { checkEnvironment, checkIntRange, checkPath, checkPort, checkS3Prefix, checkStartCommand, checkString, invalid, literalNumber } from '../private/validation';

/** Node.js major versions installable from the Amazon Linux 2023 repositories. */
const NODE_VERSIONS = [20, 22, 24];
/** Directory the app is installed in on the instances. */
const APP_DIRECTORY = APP_PATHS.appDirectory;
/** Environment variable names the tier sets itself. */
const RESERVED_ENV = ['PORT', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_SECRET_ARN', 'DB_USER', 'DB_AUTH', 'APP_BUCKET', 'AWS_REGION'];

/**
 * Props of the app tier.
 */
export interface AppTierProps {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /** The API's code. */
  readonly source: AppSource;

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
   * Command that starts the API, run in the app directory as an unprivileged user.
   *
   * @default 'node server.js'
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
   * Extra environment variables of the API. `PORT`, `DB_*`, `APP_BUCKET` and `AWS_REGION` are set
   * by the tier. Never put secrets here: they would land in the launch template's user data.
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
   *
   * @default 22
   */
  readonly nodeVersion?: number;

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
   * API instance type.
   *
   * @default - from the preset (dev t3.micro, staging t3.small, prod m7i.large)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Minimum number of API instances (1 to 100).
   *
   * @default - from the preset (dev 1, staging 2, prod 3)
   */
  readonly minCapacity?: number;

  /**
   * Maximum number of API instances (1 to 100, at least `minCapacity`).
   *
   * @default - from the preset (dev 2, staging 4, prod 9)
   */
  readonly maxCapacity?: number;

  /**
   * Average CPU utilization the Auto Scaling Group tracks (10 to 90).
   *
   * @default 60
   */
  readonly cpuTargetUtilizationPercent?: number;

  /**
   * Deletion protection of the internal load balancer.
   *
   * @default - from the preset (prod true, otherwise false)
   */
  readonly deletionProtection?: boolean;

  /**
   * Bucket for the internal load balancer's access logs.
   *
   * @default - a new bucket, with the preset's expiration
   */
  readonly accessLogBucket?: s3.IBucket;

  /**
   * A directory copied into \`bucket\` (under \`bucketSeedPrefix\`) by each instance at boot, before
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

  /**
   * Protect the load balancer with a regional WAF web ACL (AWS managed rule groups: IP reputation,
   * core rule set, known bad inputs, SQL injection).
   *
   * @default true
   */
  readonly waf?: boolean;

  /**
   * Topic receiving the Auto Scaling Group's launch and termination notifications.
   *
   * @default - a new KMS-encrypted topic
   */
  readonly notificationTopic?: sns.ITopic;
}

/**
 * The app tier: an internal ALB in front of an Auto Scaling Group running the user's API under
 * systemd as an unprivileged user, restarted on failure.
 */
export class AppTier extends Construct implements ec2.IConnectable {
  /** The internal load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener of the internal load balancer. */
  public readonly listener: elbv2.ApplicationListener;
  /** The target group of the API instances. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The Auto Scaling Group of API instances. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The launch template of the instances. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The instances' role. */
  public readonly role: iam.IRole;
  /** The instances' security group. */
  public readonly instanceSecurityGroup: ec2.ISecurityGroup;
  /** The bucket with the internal load balancer's access logs. */
  public readonly accessLogBucket: s3.IBucket;
  /** `host:port` of the internal load balancer, what the web tier proxies to. */
  public readonly endpoint: string;
  /** The name the internal load balancer's certificate is for, when its listener is HTTPS. */
  public readonly tlsServerName?: string;
  /** The internal load balancer's certificate, if any. */
  public readonly certificate?: acm.ICertificate;
  /** Port of the internal load balancer's listener. */
  public readonly listenerPort: number;
  /** Port the API listens on. */
  public readonly port: number;
  /** The environment the API gets. */
  public readonly environment: { [key: string]: string };
  /** Connections of the internal load balancer (default port: the listener port). */
  public readonly connections: ec2.Connections;
  /** The WAF web ACL protecting the internal load balancer, if on. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The topic receiving Auto Scaling notifications. */
  public readonly notificationTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: AppTierProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    this.port = literalNumber(this, 'port', props.port ?? 8080, 'it is the port of security-group rules, the target group and the health check');
    checkIntRange(this, 'port', this.port, 1024, 65535);
    if ((props.certificate || props.hostedZone) && !props.domainName) {
      invalid(this, 'domainName', props.domainName, 'is required with certificate or hostedZone (the name the certificate is verified for)');
    }
    this.certificate = certificateFor(this, props.certificate, props.domainName, props.hostedZone);
    this.tlsServerName = this.certificate ? props.domainName : undefined;
    this.listenerPort = props.listenerPort ?? (this.certificate ? 443 : 80);
    checkPort(this, 'listenerPort', this.listenerPort);
    const healthCheckPath = props.healthCheckPath ?? '/healthz';
    checkPath(this, 'healthCheckPath', healthCheckPath);
    const nodeVersion = literalNumber(this, 'nodeVersion', props.nodeVersion ?? 22, 'it names the package installed at boot');
    if (!NODE_VERSIONS.includes(nodeVersion)) {
      invalid(this, 'nodeVersion', nodeVersion, `must be one of ${NODE_VERSIONS.join(', ')} (the Node.js versions in the Amazon Linux 2023 repositories)`);
    }
    const cpuTarget = props.cpuTargetUtilizationPercent ?? 60;
    checkIntRange(this, 'cpuTargetUtilizationPercent', cpuTarget, 10, 90);
    const startCommand = props.startCommand ?? 'node server.js';
    checkStartCommand(this, 'startCommand', startCommand);
    checkEnvironment(this, 'environment', props.environment, RESERVED_ENV);
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    if (props.bucketSeedAssetPath !== undefined) checkString(this, 'bucketSeedAssetPath', props.bucketSeedAssetPath);
    if (props.bucketSeedAssetPath && !props.bucket) {
      invalid(this, 'bucketSeedAssetPath', props.bucketSeedAssetPath, 'needs bucket to be given');
    }
    const seedPrefix = props.bucketSeedPrefix ?? '';
    checkS3Prefix(this, 'bucketSeedPrefix', seedPrefix);
    const seed = props.bucket && props.bucketSeedAssetPath
      ? new s3assets.Asset(this, 'BucketSeed', { path: props.bucketSeedAssetPath })
      : undefined;

    this.environment = {
      ...props.environment,
      PORT: String(this.port),
      NODE_ENV: props.environment?.NODE_ENV ?? 'production',
      ...(props.database ? {
        DB_HOST: props.database.endpointAddress,
        DB_PORT: String(props.database.port),
        DB_NAME: props.database.databaseName,
        DB_USER: props.database.appUsername,
        DB_AUTH: 'iam',
      } : {}),
      ...(props.bucket ? { APP_BUCKET: props.bucket.bucketName } : {}),
      AWS_REGION: Aws.REGION,
    };

    const source = props.source.bind(this, APP_DIRECTORY);
    const commands = renderAppBootCommands({
      nodeVersion,
      sourceCommands: source.commands,
      seed: seed && props.bucket ? {
        assetBucketName: seed.s3BucketName,
        assetObjectKey: seed.s3ObjectKey,
        bucketName: props.bucket.bucketName,
        prefix: seedPrefix,
      } : undefined,
      environment: this.environment,
      startCommand,
      port: this.port,
      healthCheckPath,
    });

    const minCapacity = propOrPreset('minCapacity', props.minCapacity, preset, 'appMinCapacity');
    const maxCapacity = propOrPreset('maxCapacity', props.maxCapacity, preset, 'appMaxCapacity');
    this.notificationTopic = props.notificationTopic ?? createNotificationTopic(this);
    const fleet = createFleet(this, {
      vpc: props.vpc,
      vpcSubnets,
      instanceType: props.instanceType ?? preset.appInstanceType,
      minCapacity: minCapacity.value,
      maxCapacity: maxCapacity.value,
      capacitySources: { min: minCapacity.source, max: maxCapacity.source },
      commands,
      description: 'App tier (API)',
      sizeHint: 'a smaller inline app (AppSource.fromAsset) or fewer and shorter environment variables',
      notificationTopic: this.notificationTopic,
    });
    this.autoScalingGroup = fleet.autoScalingGroup;
    this.launchTemplate = fleet.launchTemplate;
    this.role = fleet.role;
    this.instanceSecurityGroup = fleet.securityGroup;

    // Exactly the app (and seed) objects, nothing else in the assets bucket.
    for (const asset of [source.asset, seed]) {
      if (!asset) continue;
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
      }));
    }
    if (props.database) {
      props.database.grantConnect(this.role);
      props.database.connections.allowDefaultPortFrom(this.autoScalingGroup, 'App tier to database');
    }
    if (props.bucket) this.grantBucketObjects(props.bucket);

    this.accessLogBucket = props.accessLogBucket ?? createAccessLogBucket(this, preset.accessLogExpirationDays, 'preset.values.accessLogExpirationDays');
    const front = createFront(this, {
      vpc: props.vpc,
      vpcSubnets,
      internetFacing: false,
      description: 'App tier internal load balancer',
      deletionProtection: props.deletionProtection ?? preset.loadBalancerDeletionProtection,
      accessLogBucket: this.accessLogBucket,
      accessLogPrefix: 'app',
      waf: props.waf ?? true,
      wafLogRetention: preset.flowLogRetention,
      autoScalingGroup: this.autoScalingGroup,
      targetPort: this.port,
      healthCheckPath,
    });
    this.loadBalancer = front.loadBalancer;
    this.targetGroup = front.targetGroup;
    this.webAcl = front.webAcl;
    this.listener = this.loadBalancer.addListener('Listener', {
      port: this.listenerPort,
      protocol: this.certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      certificates: this.certificate ? [this.certificate] : undefined,
      sslPolicy: this.certificate ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      open: false,
      defaultTargetGroups: [this.targetGroup],
    });
    if (!this.certificate) acknowledge(this.listener, 'internalListenerHttp');
    addAliasRecord(this, this.loadBalancer, props.domainName, props.hostedZone);
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: cpuTarget });

    this.connections = new ec2.Connections({
      securityGroups: [front.securityGroup],
      defaultPort: ec2.Port.tcp(this.listenerPort),
    });
    this.endpoint = `${this.tlsServerName ?? this.loadBalancer.loadBalancerDnsName}:${this.listenerPort}`;
  }

  /**
   * Lets the API read, write and delete the objects of one bucket (and list it), with explicit
   * actions rather than wildcards; object keys are the only wildcard.
   */
  private grantBucketObjects(bucket: s3.IBucket): void {
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [bucket.arnForObjects('*')],
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
    }));
    if (bucket.encryptionKey) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [bucket.encryptionKey.keyArn],
      }));
    }
    const bucketResource = bucket.node.defaultChild as CfnResource | undefined;
    if (bucketResource && CfnResource.isCfnResource(bucketResource)) {
      acknowledge(this.role, 'objectLevelWildcards',
        [`AwsSolutions-IAM5[Resource::<${Stack.of(bucketResource).getLogicalId(bucketResource)}.Arn>/*]`]);
    }
  }

  /**
   * Lets a peer (e.g. the web tier) call the API through the internal load balancer.
   */
  public allowFrom(peer: ec2.IConnectable): void {
    this.connections.allowDefaultPortFrom(peer, 'Web tier to internal ALB');
  }

  /**
   * Average response time of the API instances behind the internal load balancer.
   *
   * @default - average over 5 minutes
   */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.targetResponseTime({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /**
   * Number of HTTP 5xx responses from the API instances.
   *
   * @default - sum over 5 minutes
   */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }
}
