import { Aws } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { AppRuntime, AppRuntimeConfig } from './app-runtime';
import { AppTierProps } from './app-tier-props';
import { APP_PATHS, AppSeed, renderAppBootCommands, renderAppLogrotate, renderAppLogRule } from './boot';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { LoadBalancedFleet, LoadBalancedFleetProps } from '../private/load-balanced-fleet';
import { addAliasRecord, certificateFor } from '../private/load-balancer';
import { checkEnvironment, checkIntRange, checkPath, checkPort, checkS3Prefix, checkStartCommand, checkString, invalid, literalNumber } from '../private/validation';

/** Environment variable names the tier sets itself. */
const RESERVED_ENV = ['PORT', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_SECRET_ARN', 'DB_USER', 'DB_AUTH', 'APP_BUCKET', 'AWS_REGION'];

/** What the tier derives from its props before it builds anything, every value checked. */
interface AppSettings {
  readonly port: number;
  readonly certificate?: acm.ICertificate;
  readonly tlsServerName?: string;
  readonly listenerPort: number;
  readonly healthCheckPath: string;
  readonly runtime: AppRuntimeConfig;
  readonly startCommand: string;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly seedPrefix: string;
}

/**
 * The app tier: an internal ALB in front of an Auto Scaling Group running the user's API under
 * systemd as an unprivileged user, restarted on failure.
 */
export class AppTier extends Construct {
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
  /** The command that starts the API (the given one, or the runtime's default). */
  public readonly startCommand: string;
  /** Connections of the API instances (default port: the API's port). */
  public readonly instanceConnections: ec2.Connections;
  /** Connections of the internal load balancer (default port: the listener port). */
  public readonly loadBalancerConnections: ec2.Connections;
  /** The WAF web ACL protecting the internal load balancer, if on. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The topic receiving Auto Scaling notifications. */
  public readonly notificationTopic: sns.ITopic;
  /**
   * The log groups the instances' CloudWatch agent writes: `System` (/var/log/messages) and `App`
   * (the API's output).
   */
  public readonly instanceLogGroups: { [id: string]: logs.ILogGroup };

  private readonly fleet: LoadBalancedFleet;

  constructor(scope: Construct, id: string, props: AppTierProps) {
    super(scope, id);
    const settings = resolveSettings(this, props);
    const seed = seedAsset(this, props);
    this.port = settings.port;
    this.listenerPort = settings.listenerPort;
    this.certificate = settings.certificate;
    this.tlsServerName = settings.tlsServerName;
    this.startCommand = settings.startCommand;
    this.environment = appEnvironment(props, settings);

    const source = props.source.bind(this, APP_PATHS.appDirectory);
    this.fleet = new LoadBalancedFleet(this, fleetProps(props, settings, {
      commands: bootCommands(settings, source.commands, this.environment, seedObjects(seed, props, settings)),
      wireInstances: (fleet) => wireInstances(fleet, props, [source.asset, seed]),
    }));
    const fleet = this.fleet;
    this.autoScalingGroup = fleet.autoScalingGroup;
    this.launchTemplate = fleet.launchTemplate;
    this.role = fleet.role;
    this.instanceSecurityGroup = fleet.instanceSecurityGroup;
    this.instanceConnections = fleet.instanceConnections;
    this.notificationTopic = fleet.notificationTopic;
    this.accessLogBucket = fleet.accessLogBucket;
    this.loadBalancer = fleet.loadBalancer;
    this.targetGroup = fleet.targetGroup;
    this.webAcl = fleet.webAcl;
    this.instanceLogGroups = { ...fleet.telemetry.logGroups };

    this.listener = addListener(this.loadBalancer, this.targetGroup, settings);
    addAliasRecord(this, this.loadBalancer, props.domainName, props.hostedZone);
    this.loadBalancerConnections = new ec2.Connections({
      securityGroups: [fleet.loadBalancerSecurityGroup],
      defaultPort: ec2.Port.tcp(this.listenerPort),
    });
    this.endpoint = `${this.tlsServerName ?? this.loadBalancer.loadBalancerDnsName}:${this.listenerPort}`;
  }

  /**
   * Lets a peer (e.g. the web tier) call the API through the internal load balancer, on the
   * listener port.
   */
  public allowFrom(peer: ec2.IConnectable): void {
    this.loadBalancerConnections.allowDefaultPortFrom(peer, 'Web tier to internal ALB');
  }

  /**
   * Lets the API read the objects of a bucket and list it (and decrypt with its key).
   */
  public grantBucketRead(bucket: s3.IBucket): iam.Grant {
    return this.fleet.grantBucketRead(bucket);
  }

  /**
   * Lets the API read, write and delete the objects of a bucket and list it (and use its key), with
   * explicit actions rather than wildcards; object keys are the only wildcard.
   */
  public grantBucketReadWrite(bucket: s3.IBucket): iam.Grant {
    return this.fleet.grantBucketReadWrite(bucket);
  }

  /**
   * Average response time of the API instances behind the internal load balancer.
   *
   * @default - average over 5 minutes
   */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricTargetResponseTime(props);
  }

  /**
   * Number of HTTP 5xx responses from the API instances.
   *
   * @default - sum over 5 minutes
   */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricTarget5xxCount(props);
  }
}

/** The tier's ports, TLS, health check, runtime and start command, each checked (creates the certificate, if any). */
function resolveSettings(scope: AppTier, props: AppTierProps): AppSettings {
  const port = literalNumber(scope, 'port', props.port ?? 8080, 'it is the port of security-group rules, the target group and the health check');
  checkIntRange(scope, 'port', port, 1024, 65535);
  if ((props.certificate || props.hostedZone) && !props.domainName) {
    invalid(scope, 'domainName', props.domainName, 'is required with certificate or hostedZone (the name the certificate is verified for)');
  }
  const certificate = certificateFor(scope, props.certificate, props.domainName, props.hostedZone);
  const listenerPort = props.listenerPort ?? (certificate ? 443 : 80);
  checkPort(scope, 'listenerPort', listenerPort);
  const healthCheckPath = props.healthCheckPath ?? '/healthz';
  checkPath(scope, 'healthCheckPath', healthCheckPath);
  const runtime = runtimeOf(scope, props).bind(scope);
  const startCommand = props.startCommand ?? runtime.defaultStartCommand;
  checkStartCommand(scope, 'startCommand', startCommand);
  checkEnvironment(scope, 'environment', props.environment, RESERVED_ENV);
  const seedPrefix = props.bucketSeedPrefix ?? '';
  if (props.bucketSeedAssetPath !== undefined) checkString(scope, 'bucketSeedAssetPath', props.bucketSeedAssetPath);
  if (props.bucketSeedAssetPath && !props.bucket) invalid(scope, 'bucketSeedAssetPath', props.bucketSeedAssetPath, 'needs bucket to be given');
  checkS3Prefix(scope, 'bucketSeedPrefix', seedPrefix);
  return {
    port,
    certificate,
    tlsServerName: certificate ? props.domainName : undefined,
    listenerPort,
    healthCheckPath,
    runtime,
    startCommand,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    seedPrefix,
  };
}

/** The builder's props: the app tier's subnets, names, boot commands and wiring. */
function fleetProps(
  props: AppTierProps,
  settings: AppSettings,
  build: { commands: string[]; wireInstances: (fleet: LoadBalancedFleet) => void },
): LoadBalancedFleetProps {
  const preset = (props.preset ?? Preset.dev()).values;
  return {
    vpc: props.vpc,
    options: props,
    preset,
    tier: 'app',
    instanceSubnets: settings.vpcSubnets,
    loadBalancerSubnets: settings.vpcSubnets,
    internetFacing: false,
    fleetDescription: 'App tier (API)',
    loadBalancerDescription: 'App tier internal load balancer',
    accessLogPrefix: 'app',
    accessLogExpirationDays: { value: preset.accessLogExpirationDays, source: 'preset.values.accessLogExpirationDays' },
    commands: build.commands,
    sizeHint: 'a smaller inline app (AppSource.fromAsset), fewer and shorter environment variables, or fewer runtime commands (AppRuntime.custom)',
    targetPort: settings.port,
    healthCheckPath: settings.healthCheckPath,
    reservedPaths: Object.values(APP_PATHS),
    // The API's output, copied from the journal by rsyslog (see renderAppLogRule).
    telemetry: {
      logSources: [{ id: 'App', filePath: APP_PATHS.logFile }],
      files: [
        { path: APP_PATHS.rsyslogRule, content: renderAppLogRule(), mode: '0644' },
        { path: APP_PATHS.logrotate, content: renderAppLogrotate(), mode: '0644' },
      ],
    },
    // The instances' grants and database rule come before the load balancer, as they always have:
    // the template keeps its order.
    beforeLoadBalancer: build.wireInstances,
  };
}

/** The runtime: `runtime`, or Node.js of the deprecated `nodeVersion` (not both). */
function runtimeOf(scope: AppTier, props: AppTierProps): AppRuntime {
  if (props.nodeVersion !== undefined && props.runtime !== undefined) {
    invalid(scope, 'nodeVersion', props.nodeVersion, 'cannot be given with runtime (nodeVersion is deprecated: use runtime: AppRuntime.nodejs(version))');
  }
  return props.runtime ?? AppRuntime._nodejsOfNodeVersionProp(props.nodeVersion ?? 22);
}

/** The asset of the files seeded into the application bucket, if any. */
function seedAsset(scope: AppTier, props: AppTierProps): s3assets.Asset | undefined {
  return props.bucket && props.bucketSeedAssetPath
    ? new s3assets.Asset(scope, 'BucketSeed', { path: props.bucketSeedAssetPath })
    : undefined;
}

/** The seed's objects for the boot script: the asset to copy and where it lands. */
function seedObjects(seed: s3assets.Asset | undefined, props: AppTierProps, settings: AppSettings): AppSeed | undefined {
  if (!seed || !props.bucket) return undefined;
  return { assetBucketName: seed.s3BucketName, assetObjectKey: seed.s3ObjectKey, bucketName: props.bucket.bucketName, prefix: settings.seedPrefix };
}

/** The API's environment: the runtime's, the user's, then what the tier sets (which wins). */
function appEnvironment(props: AppTierProps, settings: AppSettings): { [key: string]: string } {
  return {
    ...settings.runtime.environment,
    ...props.environment,
    PORT: String(settings.port),
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
}

function bootCommands(settings: AppSettings, sourceCommands: string[], environment: { [key: string]: string }, seed?: AppSeed): string[] {
  return renderAppBootCommands({
    runtime: settings.runtime,
    sourceCommands,
    seed,
    environment,
    startCommand: settings.startCommand,
    port: settings.port,
    healthCheckPath: settings.healthCheckPath,
  });
}

/**
 * What the instances may do: read exactly the app's (and seed's) objects in the assets bucket,
 * connect to the database as the app user and reach its port, use the application bucket.
 */
function wireInstances(fleet: LoadBalancedFleet, props: AppTierProps, assets: Array<s3assets.Asset | undefined>): void {
  for (const asset of assets) {
    if (asset) fleet.grantAssetRead(asset);
  }
  if (props.database) {
    props.database.grantConnect(fleet.role);
    props.database.connections.allowDefaultPortFrom(fleet.autoScalingGroup, 'App tier to database');
  }
  if (props.bucket) fleet.grantBucketReadWrite(props.bucket);
}

/** The internal load balancer's listener: HTTPS with the certificate, otherwise HTTP (acknowledged). */
function addListener(
  loadBalancer: elbv2.ApplicationLoadBalancer,
  targetGroup: elbv2.ApplicationTargetGroup,
  settings: AppSettings,
): elbv2.ApplicationListener {
  const certificate = settings.certificate;
  const listener = loadBalancer.addListener('Listener', {
    port: settings.listenerPort,
    protocol: certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
    certificates: certificate ? [certificate] : undefined,
    sslPolicy: certificate ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
    open: false,
    defaultTargetGroups: [targetGroup],
  });
  if (!certificate) acknowledge(listener, 'internalListenerHttp');
  return listener;
}
