import { Duration } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledge } from './compliance';
import { enableAccessLogs } from './fleet';
import { protectWithWaf } from './waf';

/** What a tier's load balancer in front of its instance fleet is built from. */
export interface FrontProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly internetFacing: boolean;
  readonly description: string;
  readonly deletionProtection: boolean;
  readonly accessLogBucket: s3.IBucket;
  readonly accessLogPrefix: string;
  readonly waf: boolean;
  readonly wafLogRetention: logs.RetentionDays;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly targetPort: number;
  readonly healthCheckPath: string;
}

/** A load balancer, its security group and the target group of the fleet. */
export interface Front {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly webAcl?: wafv2.CfnWebACL;
}

/**
 * Creates the load balancer both compute tiers put in front of their fleet: own security group
 * without default egress, invalid headers dropped, access logs, WAF (or an acknowledgement when it
 * is turned off), and a target group whose health check and only ingress use the target port.
 */
export function createFront(scope: Construct, props: FrontProps): Front {
  const securityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc: props.vpc,
    description: props.description,
    allowAllOutbound: false,
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets,
    internetFacing: props.internetFacing,
    securityGroup,
    dropInvalidHeaderFields: true,
    deletionProtection: props.deletionProtection,
    http2Enabled: true,
  });
  enableAccessLogs(loadBalancer, props.accessLogBucket, props.accessLogPrefix);
  if (!props.deletionProtection) acknowledge(loadBalancer, 'noDeletionProtection');
  let webAcl: wafv2.CfnWebACL | undefined;
  if (props.waf) {
    webAcl = protectWithWaf(scope, loadBalancer, props.accessLogPrefix, props.wafLogRetention);
  } else {
    acknowledge(loadBalancer, 'noWaf');
  }

  const targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
    vpc: props.vpc,
    port: props.targetPort,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    targets: [props.autoScalingGroup],
    deregistrationDelay: Duration.seconds(30),
    healthCheck: {
      path: props.healthCheckPath,
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    },
  });
  // The load balancer reaches the instances on the target port only.
  props.autoScalingGroup.connections.allowFrom(loadBalancer, ec2.Port.tcp(props.targetPort), `${props.description} to instances`);
  return { loadBalancer, securityGroup, targetGroup, webAcl };
}

/** The given certificate, or a DNS-validated one for the domain when its hosted zone is given. */
export function certificateFor(
  scope: Construct,
  certificate?: acm.ICertificate,
  domainName?: string,
  hostedZone?: route53.IHostedZone,
): acm.ICertificate | undefined {
  if (certificate) return certificate;
  if (!domainName || !hostedZone) return undefined;
  return new acm.Certificate(scope, 'Certificate', {
    domainName,
    validation: acm.CertificateValidation.fromDns(hostedZone),
  });
}

/** An alias record for the load balancer, when a domain and its hosted zone are given. */
export function addAliasRecord(
  scope: Construct,
  loadBalancer: elbv2.ApplicationLoadBalancer,
  domainName?: string,
  hostedZone?: route53.IHostedZone,
): void {
  if (!domainName || !hostedZone) return;
  new route53.ARecord(scope, 'AliasRecord', {
    zone: hostedZone,
    recordName: domainName,
    target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(loadBalancer)),
  });
}
