import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AppSource } from './app-source';
import { IDataTier } from '../data/data-tier';
import { Preset } from '../platform/preset';
import { createAccessLogBucket, createFleet, enableAccessLogs } from '../private/fleet';
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
   * @default 80
   */
  readonly listenerPort?: number;

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
  /** Port of the internal load balancer's listener. */
  public readonly listenerPort: number;
  /** Port the API listens on. */
  public readonly port: number;
  /** The environment the API gets. */
  public readonly environment: { [key: string]: string };
  /** Connections of the internal load balancer (default port: the listener port). */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: AppTierProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    this.port = props.port ?? 8080;
    checkIntRange(this, 'port', this.port, 1024, 65535);
    this.listenerPort = props.listenerPort ?? 80;
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

    const fleet = createFleet(this, {
      vpc: props.vpc,
      vpcSubnets,
      instanceType: props.instanceType ?? preset.appInstanceType,
      minCapacity: props.minCapacity ?? preset.appMinCapacity,
      maxCapacity: props.maxCapacity ?? preset.appMaxCapacity,
      commands,
      description: 'App tier (API)',
    });
    this.autoScalingGroup = fleet.autoScalingGroup;
    this.launchTemplate = fleet.launchTemplate;
    this.role = fleet.role;
    this.instanceSecurityGroup = fleet.securityGroup;

    if (source.asset) {
      // Exactly the app object, nothing else in the assets bucket.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [source.asset.bucket.arnForObjects(source.asset.s3ObjectKey)],
      }));
    }
    if (props.database) {
      props.database.grantSecretRead(this.role);
      props.database.connections.allowDefaultPortFrom(this.autoScalingGroup, 'App tier to database');
    }
    props.bucket?.grantReadWrite(this.role);

    const lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'App tier internal load balancer',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets,
      internetFacing: false,
      securityGroup: lbSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? preset.loadBalancerDeletionProtection,
    });
    this.accessLogBucket = props.accessLogBucket ?? createAccessLogBucket(this, preset.accessLogExpirationDays);
    enableAccessLogs(this.loadBalancer, this.accessLogBucket, 'app');

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: this.port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      targets: [this.autoScalingGroup],
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    this.listener = this.loadBalancer.addListener('Listener', {
      port: this.listenerPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultTargetGroups: [this.targetGroup],
    });
    this.autoScalingGroup.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(this.port), 'Internal ALB to API');
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: cpuTarget });

    this.connections = new ec2.Connections({
      securityGroups: [lbSecurityGroup],
      defaultPort: ec2.Port.tcp(this.listenerPort),
    });
    this.endpoint = `${this.loadBalancer.loadBalancerDnsName}:${this.listenerPort}`;
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
