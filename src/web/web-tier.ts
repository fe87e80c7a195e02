import { Annotations, CfnOutput, Duration, Fn } from 'aws-cdk-lib';
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
import { renderWebBootCommands } from './boot';
import { renderNginxConfig } from './nginx-config';
import { HttpOnlyPolicy, Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { createAccessLogBucket, createFleet, createNotificationTopic } from '../private/fleet';
import { addAliasRecord, certificateFor, createFront } from '../private/load-balancer';
import { propOrPreset } from '../private/resolve';
import { checkDomainName, checkExactPaths, checkHostname, checkHostPort, checkIntRange, checkPath, checkString, checkTokenSource, invalid } from '../private/validation';

/**
 * Props of the web tier.
 */
export interface WebTierProps {
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
   * NGINX instance type.
   *
   * @default - from the preset (dev t3.micro, staging t3.small, prod m7i.large)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Minimum number of NGINX instances (1 to 100).
   *
   * @default - from the preset (dev 1, staging 2, prod 3)
   */
  readonly minCapacity?: number;

  /**
   * Maximum number of NGINX instances (1 to 100, at least `minCapacity`).
   *
   * @default - from the preset (dev 2, staging 4, prod 9)
   */
  readonly maxCapacity?: number;

  /**
   * Path the public ALB checks on each instance (answered by NGINX itself).
   *
   * @default '/nginx-health'
   */
  readonly healthCheckPath?: string;

  /**
   * Average CPU utilization the Auto Scaling Group tracks (10 to 90).
   *
   * @default 60
   */
  readonly cpuTargetUtilizationPercent?: number;

  /**
   * Requests per instance per minute the Auto Scaling Group tracks (1 to 100000).
   *
   * @default 1000
   */
  readonly requestsPerTargetPerMinute?: number;

  /**
   * Deletion protection of the load balancer.
   *
   * @default - from the preset (prod true, otherwise false)
   */
  readonly deletionProtection?: boolean;

  /**
   * Days access logs are kept (1 to 3650).
   *
   * @default - from the preset (dev 30, staging 90, prod 365)
   */
  readonly accessLogExpirationDays?: number;

  /**
   * Bucket for the load balancer's access logs.
   *
   * @default - a new bucket (SSE-S3, versioned, TLS only, public access blocked, expiring objects)
   */
  readonly accessLogBucket?: s3.IBucket;

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
 * The web tier: an internet-facing ALB (HTTPS with a modern TLS policy, HTTP redirecting to it)
 * in front of an Auto Scaling Group of NGINX instances that serve the static site and proxy `/api/`
 * to the app tier.
 */
export class WebTier extends Construct implements ec2.IConnectable {
  /** The internet-facing load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The Auto Scaling Group of NGINX instances. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The launch template of the instances. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The instances' role. */
  public readonly role: iam.IRole;
  /** The instances' security group. */
  public readonly instanceSecurityGroup: ec2.ISecurityGroup;
  /** The target group of the instances. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The listener forwarding to the instances (HTTPS, or HTTP when there is no certificate). */
  public readonly listener: elbv2.ApplicationListener;
  /** The bucket receiving the load balancer's access logs. */
  public readonly accessLogBucket: s3.IBucket;
  /** The certificate, if HTTPS is on. */
  public readonly certificate?: acm.ICertificate;
  /** Whether the site is served over HTTPS. */
  public readonly httpsEnabled: boolean;
  /** The site's URL. */
  public readonly siteUrl: string;
  /** The NGINX configuration the instances run. */
  public readonly nginxConfig: string;
  /** Connections of the NGINX instances. */
  public readonly connections: ec2.Connections;
  /** The WAF web ACL protecting the load balancer, if on. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The topic receiving Auto Scaling notifications. */
  public readonly notificationTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: WebTierProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    const healthCheckPath = props.healthCheckPath ?? '/nginx-health';
    checkPath(this, 'healthCheckPath', healthCheckPath);
    checkExactPaths(this, 'apiExactPaths', props.apiExactPaths, healthCheckPath);
    const cpuTarget = props.cpuTargetUtilizationPercent ?? 60;
    checkIntRange(this, 'cpuTargetUtilizationPercent', cpuTarget, 10, 90);
    const requestsTarget = props.requestsPerTargetPerMinute ?? 1000;
    checkIntRange(this, 'requestsPerTargetPerMinute', requestsTarget, 1, 100000);
    checkString(this, 'apiEndpoint', props.apiEndpoint);
    checkHostPort(this, 'apiEndpoint', props.apiEndpoint);
    checkTokenSource(this, 'apiEndpoint', props.apiEndpoint);
    if (props.apiTlsServerName !== undefined) {
      checkHostname(this, 'apiTlsServerName', props.apiTlsServerName);
      checkTokenSource(this, 'apiTlsServerName', props.apiTlsServerName);
    }
    checkDomainName(this, 'domainName', props.domainName, props.hostedZone);
    if (props.siteAssetPath !== undefined) checkString(this, 'siteAssetPath', props.siteAssetPath);
    if (props.hostedZone && !props.domainName) {
      invalid(this, 'domainName', props.domainName, 'is required when hostedZone is given');
    }
    if (props.domainName && !props.hostedZone && !props.certificate) {
      invalid(this, 'hostedZone', props.hostedZone, `is required for a DNS-validated certificate of domainName '${props.domainName}' (or pass certificate)`);
    }

    // Certificate: given, or DNS-validated for the domain.
    this.certificate = certificateFor(this, props.certificate, props.domainName, props.hostedZone);
    this.httpsEnabled = this.certificate !== undefined;
    if (!this.httpsEnabled) this.checkHttpOnly(preset.httpOnlyPolicy, props.allowHttpOnly ?? false, preset.name);

    // Static site and NGINX configuration.
    const site = props.siteAssetPath ? new s3assets.Asset(this, 'SiteAsset', { path: props.siteAssetPath }) : undefined;
    this.nginxConfig = renderNginxConfig({
      apiUpstreams: [props.apiEndpoint],
      apiExactPaths: props.apiExactPaths,
      apiTlsServerName: props.apiTlsServerName,
      healthCheckPath,
    });
    const commands = renderWebBootCommands({
      nginxConfig: this.nginxConfig,
      site: site ? { bucketName: site.s3BucketName, objectKey: site.s3ObjectKey } : undefined,
      healthCheckPath,
    });

    const minCapacity = propOrPreset('minCapacity', props.minCapacity, preset, 'webMinCapacity');
    const maxCapacity = propOrPreset('maxCapacity', props.maxCapacity, preset, 'webMaxCapacity');
    this.notificationTopic = props.notificationTopic ?? createNotificationTopic(this);
    const fleet = createFleet(this, {
      vpc: props.vpc,
      vpcSubnets: props.instanceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      instanceType: props.instanceType ?? preset.webInstanceType,
      minCapacity: minCapacity.value,
      maxCapacity: maxCapacity.value,
      capacitySources: { min: minCapacity.source, max: maxCapacity.source },
      commands,
      description: 'Web tier (NGINX)',
      sizeHint: 'fewer apiExactPaths (publicPaths on the platform)',
      notificationTopic: this.notificationTopic,
    });
    this.autoScalingGroup = fleet.autoScalingGroup;
    this.launchTemplate = fleet.launchTemplate;
    this.role = fleet.role;
    this.instanceSecurityGroup = fleet.securityGroup;
    this.connections = this.autoScalingGroup.connections;
    if (site) {
      // Exactly the site object, nothing else in the assets bucket.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [site.bucket.arnForObjects(site.s3ObjectKey)],
      }));
    }

    const expiration = propOrPreset('accessLogExpirationDays', props.accessLogExpirationDays, preset, 'accessLogExpirationDays');
    this.accessLogBucket = props.accessLogBucket ?? createAccessLogBucket(this, expiration.value, expiration.source);
    const front = createFront(this, {
      vpc: props.vpc,
      vpcSubnets: props.loadBalancerSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      internetFacing: true,
      description: 'Web tier public load balancer',
      deletionProtection: props.deletionProtection ?? preset.loadBalancerDeletionProtection,
      accessLogBucket: this.accessLogBucket,
      accessLogPrefix: 'web',
      waf: props.waf ?? true,
      wafLogRetention: preset.flowLogRetention,
      autoScalingGroup: this.autoScalingGroup,
      targetPort: 80,
      healthCheckPath,
    });
    this.loadBalancer = front.loadBalancer;
    this.targetGroup = front.targetGroup;
    this.webAcl = front.webAcl;
    acknowledge(front.securityGroup, 'publicLoadBalancerOpen');

    if (this.certificate) {
      this.listener = this.loadBalancer.addListener('HttpsListener', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [this.certificate],
        sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
        open: true,
        defaultTargetGroups: [this.targetGroup],
      });
      const redirect = this.loadBalancer.addListener('HttpListener', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: true,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      acknowledge(redirect, 'httpRedirectListener');
    } else {
      this.listener = this.loadBalancer.addListener('HttpListener', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: true,
        defaultTargetGroups: [this.targetGroup],
      });
      acknowledge(this.listener, 'httpOnlyChosen');
    }
    this.autoScalingGroup.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: cpuTarget });
    this.autoScalingGroup.scaleOnRequestCount('RequestScaling', { targetRequestsPerMinute: requestsTarget });

    addAliasRecord(this, this.loadBalancer, props.domainName, props.hostedZone);
    const host = props.domainName ?? this.loadBalancer.loadBalancerDnsName;
    this.siteUrl = this.httpsEnabled ? `https://${host}` : Fn.join('', ['http://', host]);
    new CfnOutput(this, 'SiteUrl', { value: this.siteUrl, description: 'URL of the site' });
  }

  /**
   * Average response time of the public load balancer's targets.
   *
   * @default - average over 5 minutes
   */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.targetResponseTime({ statistic: 'Average', period: Duration.minutes(5), ...props });
  }

  /**
   * Number of HTTP 5xx responses from the public load balancer's targets.
   *
   * @default - sum over 5 minutes
   */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  private checkHttpOnly(policy: HttpOnlyPolicy, allowed: boolean, presetName: string): void {
    const message = `${this.node.path} serves HTTP only: no certificate, domainName or hostedZone was given. Pass certificate (or domainName + hostedZone) to serve HTTPS.`;
    if (policy === HttpOnlyPolicy.ERROR && !allowed) {
      throw new Error(`certificate (undefined) is required with the ${presetName} preset in ${this.node.path}: pass certificate, or domainName + hostedZone, or set allowHttpOnly: true to accept HTTP only`);
    }
    if (policy === HttpOnlyPolicy.ERROR || (policy === HttpOnlyPolicy.WARN && !allowed)) {
      Annotations.of(this).addWarningV2('cdk-three-tier:httpOnly', message);
    }
  }
}
