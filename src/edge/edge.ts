import { Annotations, Arn, ArnFormat, Duration, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createEdgeLogBucket, createEdgeWebAcl, mayBeUsEast1, requireUsEast1 } from './edge-parts';
import { EdgeDistributionProps } from './edge-props';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { propOrPreset } from '../private/resolve';
import { checkDomainName, checkIntRange, invalid } from '../private/validation';

/**
 * CloudFront in front of the web tier's public load balancer: HTTPS to viewers (HTTP redirects,
 * TLS 1.2_2021 with a custom domain), static files cached, `/api/*` never cached and forwarded
 * whole, WAF at CLOUDFRONT scope, standard access logs. The load balancer admits only CloudFront's
 * origin-facing addresses and forwards only requests carrying a secret header (others get 403).
 */
export class EdgeDistribution extends Construct {
  /** The name of the header CloudFront adds and the load balancer requires. */
  public static readonly ORIGIN_HEADER = 'X-Origin-Verify';
  /** The name of the managed prefix list of CloudFront's origin-facing addresses. */
  public static readonly ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

  /** The distribution. */
  public readonly distribution: cloudfront.Distribution;
  /** The secret holding the origin header's value. */
  public readonly originSecret: secretsmanager.Secret;
  /** The bucket of CloudFront's access logs. */
  public readonly logBucket: s3.Bucket;
  /** The key of the log bucket and the origin secret. */
  public readonly encryptionKey: kms.Key;
  /** The CLOUDFRONT-scope web ACL, if created here. */
  public readonly webAcl?: wafv2.CfnWebACL;
  /** The viewer certificate, if any (given, or created in a us-east-1 stack). */
  public readonly certificate?: acm.ICertificate;
  /** The site's URL through CloudFront. */
  public readonly siteUrl: string;

  constructor(scope: Construct, id: string, props: EdgeDistributionProps) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;
    const expiration = propOrPreset('accessLogExpirationDays', props.accessLogExpirationDays, preset, 'accessLogExpirationDays');
    checkIntRange(this, expiration.source, expiration.value, 1, 3650);
    this.certificate = this.viewerCertificate(props);
    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Encrypts the CloudFront log bucket and origin secret of ${this.node.path}`,
      enableKeyRotation: true,
    });
    this.logBucket = createEdgeLogBucket(this, this.encryptionKey, expiration.value, props.serverAccessLogBucket ?? props.web.accessLogBucket);
    this.originSecret = new secretsmanager.Secret(this, 'OriginSecret', {
      description: `Value of the ${EdgeDistribution.ORIGIN_HEADER} header CloudFront sends to the load balancer of ${props.web.node.path}`,
      encryptionKey: this.encryptionKey,
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });
    acknowledge(this.originSecret, 'edgeOriginSecretRotation');
    let webAclArn = props.webAclArn;
    if (webAclArn === undefined && (props.waf ?? true)) {
      this.webAcl = this.createWebAcl(props.preset ?? Preset.dev());
      webAclArn = this.webAcl.attrArn;
    }
    this.distribution = this.createDistribution(props, webAclArn);
    this.restrictOrigin(props);
    if (props.hostedZone && props.domainName) {
      new route53.ARecord(this, 'AliasRecord', {
        zone: props.hostedZone,
        recordName: props.domainName,
        target: route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution)),
      });
    }
    this.siteUrl = `https://${props.domainName ?? this.distribution.distributionDomainName}`;
  }

  private viewerCertificate(props: EdgeDistributionProps): acm.ICertificate | undefined {
    if (props.domainName === undefined) {
      if (props.certificate) invalid(this, 'certificate', props.certificate.certificateArn, 'needs domainName (the name viewers use)');
      if (props.web.httpsEnabled) {
        invalid(this, 'domainName', undefined, 'is required when the web tier has a certificate: CloudFront connects to the load balancer over HTTPS and checks its certificate against the viewer\'s host name, which must be a name that certificate covers');
      }
      return undefined;
    }
    checkDomainName(this, 'domainName', props.domainName, props.hostedZone);
    if (props.certificate) {
      const arn = props.certificate.certificateArn;
      const region = Token.isUnresolved(arn) ? undefined : Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region;
      if (region !== undefined && region !== 'us-east-1') invalid(this, 'certificate', arn, 'must be a certificate in us-east-1 (CloudFront reads viewer certificates only from there)');
      return props.certificate;
    }
    if (!props.hostedZone || !mayBeUsEast1(this)) {
      invalid(this, 'certificate', undefined, `is required with domainName in a stack outside us-east-1 (${Stack.of(this).region}) or without hostedZone: create a certificate for the name in a us-east-1 stack and pass it`);
    }
    if (Token.isUnresolved(Stack.of(this).region)) requireUsEast1(this, 'The viewer certificate');
    return new acm.Certificate(this, 'Certificate', {
      domainName: props.domainName,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });
  }

  private createWebAcl(preset: Preset): wafv2.CfnWebACL {
    const region = Stack.of(this).region;
    if (!mayBeUsEast1(this)) {
      invalid(this, 'waf', true, `needs webAclArn in a stack outside us-east-1 (${region}): a CLOUDFRONT-scope web ACL exists only in us-east-1; create one in a us-east-1 stack and pass its ARN, or set waf: false`);
    }
    if (Token.isUnresolved(region)) requireUsEast1(this, 'The CLOUDFRONT-scope web ACL');
    return createEdgeWebAcl(this, preset.values.logRetention ?? preset.values.flowLogRetention);
  }

  private createDistribution(props: EdgeDistributionProps, webAclArn?: string): cloudfront.Distribution {
    const https = props.web.httpsEnabled;
    if (!https) {
      Annotations.of(this).addWarningV2('cdk-three-tier:edgeHttpOrigin',
        'The web tier has no certificate: CloudFront reaches the load balancer over HTTP, so requests (and the origin header) cross the internet unencrypted between CloudFront and the load balancer. Give the web tier a certificate for production.');
    }
    const origin = new origins.LoadBalancerV2Origin(props.web.loadBalancer, {
      protocolPolicy: https ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      customHeaders: { [EdgeDistribution.ORIGIN_HEADER]: this.originSecret.secretValue.unsafeUnwrap() },
      readTimeout: Duration.seconds(30),
    });
    const staticRequests = new cloudfront.OriginRequestPolicy(this, 'StaticOriginRequestPolicy', {
      comment: 'Static files: only the Host header reaches the origin (its certificate is checked against it)',
      headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList('Host'),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.none(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
    });
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `cdk-three-tier ${this.node.path}`,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        originRequestPolicy: staticRequests,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        compress: true,
      },
      additionalBehaviors: {
        '/api/*': {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        },
      },
      domainNames: props.domainName ? [props.domainName] : undefined,
      certificate: this.certificate,
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      geoRestriction: props.geoRestriction,
      webAclId: webAclArn,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    if (!webAclArn) acknowledge(distribution, 'edgeNoWaf');
    if (!this.certificate) acknowledge(distribution, 'edgeDefaultCertificate');
    if (!https) acknowledge(distribution, 'edgeHttpOrigin');
    if (!props.geoRestriction) acknowledge(distribution, 'edgeNoGeoRestriction');
    return distribution;
  }

  /**
   * The load balancer admits CloudFront's origin-facing addresses on the origin port, and forwards
   * only requests with the origin header; everything else gets 403.
   */
  private restrictOrigin(props: EdgeDistributionProps): void {
    const web = props.web;
    const port = web.httpsEnabled ? 443 : 80;
    web.loadBalancerConnections.allowFrom(ec2.Peer.prefixList(this.originPrefixListId(props)), ec2.Port.tcp(port),
      'CloudFront origin-facing addresses');
    web.listener.addAction('FromCloudFront', {
      priority: 1,
      conditions: [elbv2.ListenerCondition.httpHeader(EdgeDistribution.ORIGIN_HEADER, [this.originSecret.secretValue.unsafeUnwrap()])],
      action: elbv2.ListenerAction.forward([web.targetGroup]),
    });
    Annotations.of(web.listener).acknowledgeWarning('@aws-cdk/aws-elbv2:listenerExistingDefaultActionReplaced',
      'EdgeDistribution replaces the default action on purpose: requests without the origin header get 403');
    web.listener.addAction('NotFromCloudFront', {
      action: elbv2.ListenerAction.fixedResponse(403, { contentType: 'text/plain', messageBody: 'Forbidden' }),
    });
  }

  private originPrefixListId(props: EdgeDistributionProps): string {
    if (props.originPrefixListId !== undefined) {
      if (!Token.isUnresolved(props.originPrefixListId) && !/^pl-[0-9a-f]{8,17}$/.test(props.originPrefixListId)) {
        invalid(this, 'originPrefixListId', props.originPrefixListId, "must be a prefix list ID ('pl-' and 8 or 17 hex digits)");
      }
      return props.originPrefixListId;
    }
    const { account, region } = Stack.of(this);
    if (Token.isUnresolved(account) || Token.isUnresolved(region)) {
      invalid(this, 'originPrefixListId', undefined, `is required in a stack without an account and region: the prefix list ${EdgeDistribution.ORIGIN_FACING_PREFIX_LIST} is looked up by name only in a stack with both`);
    }
    return ec2.PrefixList.fromLookup(this, 'OriginFacing', { prefixListName: EdgeDistribution.ORIGIN_FACING_PREFIX_LIST }).prefixListId;
  }
}
