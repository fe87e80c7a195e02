import { Annotations, CfnOutput, Fn } from 'aws-cdk-lib';
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
import { renderWebBootCommands } from './boot';
import { renderNginxConfig } from './nginx-config';
import { resolveWebSettings, validateWebProps, WEB_RESERVED_PATHS, WebSettings } from './web-settings';
import { WebTierProps } from './web-tier-props';
import { HttpOnlyPolicy } from '../preset/preset';
import { nginxLogPaths } from '../private/cloudwatch-agent';
import { acknowledge } from '../private/compliance';
import { InstanceLogSource } from '../private/instance-telemetry';
import { LoadBalancedFleet } from '../private/load-balanced-fleet';
import { addAliasRecord, certificateFor } from '../private/load-balancer';

/**
 * The web tier: an internet-facing ALB (HTTPS with a modern TLS policy, HTTP redirecting to it)
 * in front of an Auto Scaling Group of NGINX instances that serve the static site and proxy `/api/`
 * to the app tier.
 */
export class WebTier extends Construct {
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
  /**
   * Connections of the NGINX instances (their security group; default port 80, where NGINX
   * listens). Use it for what the instances reach, e.g. `data.connections.allowDefaultPortFrom(web.instanceConnections)`.
   */
  public readonly instanceConnections: ec2.Connections;
  /**
   * Connections of the public load balancer (its security group; default port the listener's,
   * 443 with HTTPS, otherwise 80).
   */
  public readonly loadBalancerConnections: ec2.Connections;
  /** The WAF web ACL protecting the load balancer, if on. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The topic receiving Auto Scaling notifications. */
  public readonly notificationTopic: sns.ITopic;
  /**
   * The log groups the instances' CloudWatch agent writes: `System` (/var/log/messages),
   * `NginxAccess` and `NginxError` (the files the NGINX configuration names).
   */
  public readonly instanceLogGroups: { [id: string]: logs.ILogGroup };

  private readonly fleet: LoadBalancedFleet;

  constructor(scope: Construct, id: string, props: WebTierProps) {
    super(scope, id);
    const settings = resolveWebSettings(props);
    validateWebProps(this, props, settings);

    // Certificate: given, or DNS-validated for the domain.
    this.certificate = certificateFor(this, props.certificate, props.domainName, props.hostedZone);
    this.httpsEnabled = this.certificate !== undefined;
    if (!this.httpsEnabled) this.checkHttpOnly(settings.preset.httpOnlyPolicy, settings.allowHttpOnly, settings.preset.name);

    const site = props.siteAssetPath ? new s3assets.Asset(this, 'SiteAsset', { path: props.siteAssetPath }) : undefined;
    this.nginxConfig = renderNginxConfig({
      apiUpstreams: [props.apiEndpoint],
      apiExactPaths: props.apiExactPaths,
      apiTlsServerName: props.apiTlsServerName,
      healthCheckPath: settings.healthCheckPath,
    });
    this.fleet = this.createFleet(props, settings, site);
    this.autoScalingGroup = this.fleet.autoScalingGroup;
    this.launchTemplate = this.fleet.launchTemplate;
    this.role = this.fleet.role;
    this.instanceSecurityGroup = this.fleet.instanceSecurityGroup;
    this.instanceConnections = this.fleet.instanceConnections;
    this.notificationTopic = this.fleet.notificationTopic;
    this.accessLogBucket = this.fleet.accessLogBucket;
    this.loadBalancer = this.fleet.loadBalancer;
    this.targetGroup = this.fleet.targetGroup;
    this.webAcl = this.fleet.webAcl;
    this.instanceLogGroups = { ...this.fleet.telemetry.logGroups };
    // Exactly the site object, nothing else in the assets bucket.
    if (site) this.fleet.grantAssetRead(site);
    const open = !(props.behindCloudFront ?? false);
    if (open) acknowledge(this.fleet.loadBalancerSecurityGroup, 'publicLoadBalancerOpen');

    this.listener = this.addListeners(settings.sslPolicy, open);
    this.loadBalancerConnections = new ec2.Connections({
      securityGroups: [this.fleet.loadBalancerSecurityGroup],
      defaultPort: ec2.Port.tcp(this.httpsEnabled ? 443 : 80),
    });
    this.autoScalingGroup.scaleOnRequestCount('RequestScaling', { targetRequestsPerMinute: settings.requestsPerTargetPerMinute });

    if (open) addAliasRecord(this, this.loadBalancer, props.domainName, props.hostedZone);
    const host = props.domainName ?? this.loadBalancer.loadBalancerDnsName;
    this.siteUrl = this.httpsEnabled ? `https://${host}` : Fn.join('', ['http://', host]);
    new CfnOutput(this, 'SiteUrl', { value: this.siteUrl, description: 'URL of the site' });
  }

  /**
   * Lets the NGINX instances read the objects of a bucket and list it (and decrypt with its KMS key,
   * when it has one), with explicit actions.
   */
  public grantBucketRead(bucket: s3.IBucket): iam.Grant {
    return this.fleet.grantBucketRead(bucket);
  }

  /**
   * Lets the NGINX instances read, write and delete the objects of a bucket and list it (and use its
   * KMS key, when it has one), with explicit actions.
   */
  public grantBucketReadWrite(bucket: s3.IBucket): iam.Grant {
    return this.fleet.grantBucketReadWrite(bucket);
  }

  /**
   * Average response time of the public load balancer's targets.
   *
   * @default - average over 5 minutes
   */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricTargetResponseTime(props);
  }

  /**
   * Number of HTTP 5xx responses from the public load balancer's targets.
   *
   * @default - sum over 5 minutes
   */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.fleet.metricTarget5xxCount(props);
  }

  /** The NGINX fleet behind the public load balancer. */
  private createFleet(props: WebTierProps, settings: WebSettings, site?: s3assets.Asset): LoadBalancedFleet {
    return new LoadBalancedFleet(this, {
      vpc: props.vpc,
      options: props,
      preset: settings.preset,
      tier: 'web',
      instanceSubnets: settings.instanceSubnets,
      loadBalancerSubnets: settings.loadBalancerSubnets,
      internetFacing: true,
      fleetDescription: 'Web tier (NGINX)',
      loadBalancerDescription: 'Web tier public load balancer',
      accessLogPrefix: 'web',
      accessLogExpirationDays: settings.accessLogExpirationDays,
      commands: renderWebBootCommands({
        nginxConfig: this.nginxConfig,
        site: site ? { bucketName: site.s3BucketName, objectKey: site.s3ObjectKey } : undefined,
        healthCheckPath: settings.healthCheckPath,
      }),
      sizeHint: 'fewer apiExactPaths (publicPaths on the platform)',
      targetPort: 80,
      healthCheckPath: settings.healthCheckPath,
      reservedPaths: WEB_RESERVED_PATHS,
      telemetry: { logSources: nginxLogSources(this.nginxConfig) },
    });
  }

  /** HTTPS forwarding to the instances with HTTP redirecting to it, or HTTP only without a certificate. */
  private addListeners(sslPolicy: elbv2.SslPolicy, open: boolean): elbv2.ApplicationListener {
    if (!this.certificate) {
      const httpOnly = this.loadBalancer.addListener('HttpListener', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open,
        defaultTargetGroups: [this.targetGroup],
      });
      acknowledge(httpOnly, 'httpOnlyChosen');
      return httpOnly;
    }
    const https = this.loadBalancer.addListener('HttpsListener', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [this.certificate],
      sslPolicy,
      open,
      defaultTargetGroups: [this.targetGroup],
    });
    const redirect = this.loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    acknowledge(redirect, 'httpRedirectListener');
    return https;
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

/** The access and error logs the rendered NGINX configuration writes, as the agent's log sources. */
export function nginxLogSources(nginxConfig: string): InstanceLogSource[] {
  const paths = nginxLogPaths(nginxConfig);
  const sources = (id: string, files: string[]) => files.map((filePath, i) => ({ id: i === 0 ? id : `${id}${i + 1}`, filePath }));
  return [...sources('NginxAccess', paths.accessLogs), ...sources('NginxError', paths.errorLogs)];
}
