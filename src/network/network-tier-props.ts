import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { InterfaceEndpointService } from './options/endpoints';
import { EgressMode, NatMode } from './options/nat-mode';
import { Preset } from '../preset/preset';

/**
 * What a user sets on the network tier (directly, or as `network` of the platform): a VPC the tier
 * creates (its CIDR, AZs, egress, NAT, endpoints and flow logs), or an existing VPC and the subnets
 * of each tier in it.
 */
export interface NetworkTierOptions {
  /**
   * An existing VPC to build in (`ec2.Vpc.fromLookup`, `ec2.Vpc.fromVpcAttributes`, or a VPC of
   * another stack) instead of creating one. The tier then creates no VPC, NAT, flow log, S3
   * gateway endpoint or network ACL of its own: a shared VPC's routes, ACLs and logging belong to
   * its owner, and an ACL the tier attached to the owner's subnets would replace the one the owner
   * put there, for every workload in them. `restrictS3Endpoint`, `allowS3Bucket`, `allowS3Asset`
   * and `restrictSubnetTraffic` do nothing then. `cidr`, `maxAzs`, `egress`, `natMode` and
   * `flowLogRetention` apply only to the VPC the tier creates and fail at synth time with `vpc`.
   *
   * @default - a new VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of the public load balancer in the existing `vpc` (at least 2 subnets in 2 AZs).
   * Applies only with `vpc`: the VPC the tier creates has its own public subnets.
   *
   * @default - the VPC's public subnets
   */
  readonly publicSubnets?: ec2.SubnetSelection;

  /**
   * Subnets of the web instances in the existing `vpc` (at least 2 subnets in 2 AZs). May be the
   * same subnets as `appSubnets`. Applies only with `vpc`.
   *
   * @default - the VPC's private subnets with egress (`SubnetType.PRIVATE_WITH_EGRESS`)
   */
  readonly webSubnets?: ec2.SubnetSelection;

  /**
   * Subnets of the internal load balancer, the API instances and the interface endpoints in the
   * existing `vpc` (at least 2 subnets in 2 AZs). May be the same subnets as `webSubnets`. Applies
   * only with `vpc`.
   *
   * @default - the VPC's private subnets with egress (`SubnetType.PRIVATE_WITH_EGRESS`)
   */
  readonly appSubnets?: ec2.SubnetSelection;

  /**
   * Subnets of the database in the existing `vpc`: at least 2 subnets in 2 AZs (RDS subnet
   * groups and Multi-AZ need them), never public ones. Applies only with `vpc`.
   *
   * @default - the VPC's isolated subnets (`SubnetType.PRIVATE_ISOLATED`)
   */
  readonly dataSubnets?: ec2.SubnetSelection;

  /**
   * IPv4 CIDR of the VPC: a network address inside a private range of RFC 1918 (10.0.0.0/8,
   * 172.16.0.0/12, 192.168.0.0/16), written without leading zeros, with a prefix length from /16
   * to /23. Each tier in each AZ gets a subnet 5 bits longer (a /16 gives /21 subnets). Must be a
   * literal: the address plan is computed at synth time. Only for the VPC the tier creates.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Number of Availability Zones, 2 or 3. Subnet CIDRs do not move when this grows. A token that
   * resolves at synth time (`Lazy.number`) is resolved; a deploy-time value (a CloudFormation
   * parameter) is refused. Only for the VPC the tier creates.
   *
   * @default - from the preset (dev 2, staging 2, prod 3)
   */
  readonly maxAzs?: number;

  /**
   * Where the web and app subnets may send traffic that leaves the VPC: HTTPS to the internet
   * through NAT, or AWS services only (VPC endpoints, no NAT). `EgressMode.AWS_SERVICES_ONLY` with
   * a `natMode` other than `NatMode.none()`, or `EgressMode.INTERNET_HTTPS` with
   * `NatMode.none()`, fails at synth time. Only for the VPC the tier creates.
   *
   * @default - from `natMode` when only that is given (`NatMode.none()` means AWS services only),
   * otherwise from the preset (dev and staging `INTERNET_HTTPS`, prod `AWS_SERVICES_ONLY`)
   */
  readonly egress?: EgressMode;

  /**
   * NAT for the web and app subnets (with `EgressMode.INTERNET_HTTPS`). Only for the VPC the tier
   * creates.
   *
   * @default - `NatMode.none()` with AWS-only egress, otherwise from the preset (dev
   * `NatMode.instance()`, staging `NatMode.singleGateway()`, prod `NatMode.gatewayPerAz()`)
   */
  readonly natMode?: NatMode;

  /**
   * Interface VPC endpoints to create (in the app subnets, reachable from the tiers wired to them).
   * In a VPC the tier creates, the S3 gateway endpoint is always created too. In an existing `vpc`,
   * list only services that have no endpoint with private DNS there yet (two such endpoints for one
   * service fail to deploy).
   *
   * @default - with an existing `vpc` none; otherwise from the preset (dev and staging none, prod
   * all), and with AWS-only egress at least SSM, SSM messages, EC2 messages, Secrets Manager,
   * CloudWatch Logs and CloudFormation are added
   */
  readonly interfaceEndpoints?: InterfaceEndpointService[];

  /**
   * Retention of the VPC flow logs: a `logs.RetentionDays` value. Only for the VPC the tier creates.
   *
   * @default - from the preset (dev one week, staging one month, prod one year)
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * Props of the network tier.
 */
export interface NetworkTierProps extends NetworkTierOptions {
  /**
   * Preset that fills in every value not given here.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;
}
