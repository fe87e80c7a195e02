import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where the web and app subnets may send traffic that leaves the VPC.
 */
export enum EgressMode {
  /**
   * HTTPS to the internet through NAT (see `NatMode`), besides the VPC endpoints. For APIs that
   * call services outside AWS.
   */
  INTERNET_HTTPS = 'internet-https',
  /**
   * AWS services only: interface VPC endpoints (Systems Manager, Secrets Manager, CloudWatch Logs,
   * CloudFormation, ...) and the S3 gateway endpoint (which also serves the Amazon Linux 2023
   * package repositories). No NAT and no route to the internet.
   */
  AWS_SERVICES_ONLY = 'aws-services-only',
}

/**
 * How the private (web and app) subnets reach the internet.
 *
 * A class with static factories rather than a union, so it reads the same in every jsii language:
 * `NatMode.gatewayPerAz()`, `NatMode.singleGateway()`, `NatMode.instance(...)`, `NatMode.none()`.
 */
export class NatMode {
  /**
   * One managed NAT gateway in each AZ: no cross-AZ dependency (the highly available choice).
   */
  public static gatewayPerAz(): NatMode {
    return new NatMode('gateway-per-az');
  }

  /**
   * One managed NAT gateway shared by all AZs: cheaper, but an AZ outage cuts egress everywhere.
   */
  public static singleGateway(): NatMode {
    return new NatMode('single-gateway');
  }

  /**
   * One NAT instance (Amazon Linux 2023) instead of a managed gateway: the cheapest egress, for dev.
   *
   * @param instanceType the NAT instance's type. @default t3.nano
   */
  public static instance(instanceType?: ec2.InstanceType): NatMode {
    return new NatMode('instance', instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.NANO));
  }

  /**
   * No NAT at all: web and app subnets are isolated and reach AWS services only through VPC
   * endpoints (the S3 gateway endpoint always, interface endpoints as selected).
   */
  public static none(): NatMode {
    return new NatMode('none');
  }

  /** The mode's name: `gateway-per-az`, `single-gateway`, `instance` or `none`. */
  public readonly mode: string;

  /** The NAT instance type, for `NatMode.instance()`. */
  public readonly instanceType?: ec2.InstanceType;

  private constructor(mode: string, instanceType?: ec2.InstanceType) {
    this.mode = mode;
    this.instanceType = instanceType;
  }

  /** The factory call that makes this mode, e.g. `NatMode.instance(t3.nano)`. */
  public toString(): string {
    const factory = this.mode.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    return `NatMode.${factory}(${this.instanceType ?? ''})`;
  }

  /** Whether private subnets get a route to a NAT. */
  public get hasEgress(): boolean {
    return this.mode !== 'none';
  }

  /** Number of NAT gateways or instances for the given AZ count. */
  public natCount(azCount: number): number {
    switch (this.mode) {
      case 'gateway-per-az': return azCount;
      case 'none': return 0;
      default: return 1;
    }
  }
}
