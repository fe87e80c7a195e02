import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
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
import { IDataTier } from '../data/data-tier';
import { Preset } from '../platform/preset';
import { acknowledge } from '../private/compliance';
import { createAccessLogBucket, createFleet, createNotificationTopic } from '../private/fleet';
import { addAliasRecord, certificateFor, createFront } from '../private/load-balancer';
import { checkIntRange, checkPath, checkPort, invalid } from '../private/validation';

/** Node.js major versions installable from the Amazon Linux 2023 repositories. */
const NODE_VERSIONS = [20, 22, 24];
/** Directory the app is installed in on the instances. */
const APP_DIRECTORY = '/opt/app';
/** Environment variable names the tier sets itself. */
const RESERVED_ENV = ['PORT', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_SECRET_ARN', 'APP_BUCKET', 'AWS_REGION'];

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
   * The database the API uses: it gets `DB_HOST`, `DB_PORT`, `DB_NAME` and `DB_SECRET_ARN`, may read
   * that secret, and may reach the database port.
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

    this.port = props.port ?? 8080;
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
    const nodeVersion = props.nodeVersion ?? 22;
    if (!NODE_VERSIONS.includes(nodeVersion)) {
      invalid(this, 'nodeVersion', nodeVersion, `must be one of ${NODE_VERSIONS.join(', ')} (the Node.js versions in the Amazon Linux 2023 repositories)`);
    }
    const cpuTarget = props.cpuTargetUtilizationPercent ?? 60;
    checkIntRange(this, 'cpuTargetUtilizationPercent', cpuTarget, 10, 90);
    const startCommand = props.startCommand ?? 'node server.js';
    if (startCommand.trim() === '' || /[\n\r']/.test(startCommand)) {
      invalid(this, 'startCommand', startCommand, 'must be one non-empty line without single quotes');
    }
    for (const [key, value] of Object.entries(props.environment ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) invalid(this, 'environment', key, 'keys must be letters, digits and underscores, not starting with a digit');
      if (RESERVED_ENV.includes(key)) invalid(this, 'environment', key, `keys must not be one the tier sets (${RESERVED_ENV.join(', ')})`);
      if (/[\n\r]/.test(value)) invalid(this, 'environment', key, 'values must be one line');
    }
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    if (props.bucketSeedAssetPath && !props.bucket) {
      invalid(this, 'bucketSeedAssetPath', props.bucketSeedAssetPath, 'needs bucket to be given');
    }
    const seedPrefix = props.bucketSeedPrefix ?? '';
    if (seedPrefix !== '' && !/^([A-Za-z0-9!_.*'()-]+\/)+$/.test(seedPrefix)) {
      invalid(this, 'bucketSeedPrefix', seedPrefix, "must be one or more path segments, each ending with '/'");
    }
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
        DB_SECRET_ARN: props.database.secret.secretArn,
      } : {}),
      ...(props.bucket ? { APP_BUCKET: props.bucket.bucketName } : {}),
    };

    const source = props.source.bind(this, APP_DIRECTORY);
    const envLines = Object.entries(this.environment).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
    const commands = [
      `dnf install -y nodejs${nodeVersion} unzip`,
      `ln -sf "$(command -v node-${nodeVersion} || command -v node)" /usr/local/bin/node`,
      'id app >/dev/null 2>&1 || useradd --system --home-dir /opt/app --shell /sbin/nologin app',
      `mkdir -p ${APP_DIRECTORY} /etc/cdk-three-tier`,
      ...source.commands,
      ...(seed && props.bucket ? [
        `aws s3 cp 's3://${seed.s3BucketName}/${seed.s3ObjectKey}' /tmp/seed.zip --only-show-errors`,
        'rm -rf /tmp/seed && mkdir -p /tmp/seed && unzip -o -q /tmp/seed.zip -d /tmp/seed',
        `aws s3 cp --recursive /tmp/seed 's3://${props.bucket.bucketName}/${seedPrefix}' --only-show-errors`,
        'rm -rf /tmp/seed /tmp/seed.zip',
      ] : []),
      `chown -R root:app ${APP_DIRECTORY}`,
      `chmod -R u=rwX,g=rX,o= ${APP_DIRECTORY}`,
      'TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")',
      'REGION=$(curl -fsS -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/placement/region)',
      "cat > /etc/cdk-three-tier/app.env <<'CDK_THREE_TIER_EOF'",
      ...envLines,
      'CDK_THREE_TIER_EOF',
      'echo "AWS_REGION=$REGION" >> /etc/cdk-three-tier/app.env',
      'chown root:app /etc/cdk-three-tier/app.env',
      'chmod 0640 /etc/cdk-three-tier/app.env',
      "cat > /etc/systemd/system/app.service <<'CDK_THREE_TIER_EOF'",
      [
        '[Unit]',
        'Description=cdk-three-tier API',
        'After=network-online.target',
        'Wants=network-online.target',
        '[Service]',
        'User=app',
        'Group=app',
        `WorkingDirectory=${APP_DIRECTORY}`,
        'EnvironmentFile=/etc/cdk-three-tier/app.env',
        'Environment=PATH=/usr/local/bin:/usr/bin:/bin',
        `ExecStart=/bin/sh -c '${startCommand}'`,
        'Restart=on-failure',
        'RestartSec=2',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        '[Install]',
        'WantedBy=multi-user.target',
      ].join('\n'),
      'CDK_THREE_TIER_EOF',
      'systemctl daemon-reload',
      'systemctl enable --now app',
      `curl -fsS --retry 30 --retry-delay 2 --retry-connrefused 'http://127.0.0.1:${this.port}${healthCheckPath}'`,
    ];

    this.notificationTopic = props.notificationTopic ?? createNotificationTopic(this);
    const fleet = createFleet(this, {
      vpc: props.vpc,
      vpcSubnets,
      instanceType: props.instanceType ?? preset.appInstanceType,
      minCapacity: props.minCapacity ?? preset.appMinCapacity,
      maxCapacity: props.maxCapacity ?? preset.appMaxCapacity,
      commands,
      description: 'App tier (API)',
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
      props.database.grantSecretRead(this.role);
      props.database.connections.allowDefaultPortFrom(this.autoScalingGroup, 'App tier to database');
    }
    if (props.bucket) this.grantBucketObjects(props.bucket);

    this.accessLogBucket = props.accessLogBucket ?? createAccessLogBucket(this, preset.accessLogExpirationDays);
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
