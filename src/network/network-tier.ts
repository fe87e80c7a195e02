import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MAX_AZ_SLOTS, MAX_VPC_PREFIX, MIN_VPC_PREFIX, parseCidr, subnetCidr, subnetPrefix, TIER_SLOTS } from './address-plan';
import { InterfaceEndpointService } from './endpoints';
import { NatMode } from './nat-mode';
import { Preset } from '../platform/preset';
import { acknowledge } from '../private/compliance';
import { awsService, endpointId } from '../private/endpoints';
import { createLogKey } from '../private/fleet';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { checkIntRange, invalid } from '../private/validation';

/**
 * Props of the network tier.
 */
export interface NetworkTierProps {
  /**
   * Preset that fills in every value not given here.
   *
   * @default Preset.dev()
   */
  readonly preset?: Preset;

  /**
   * IPv4 CIDR of the VPC, a network address with a prefix length from /16 to /23. Each tier in each
   * AZ gets a subnet 5 bits longer (a /16 gives /21 subnets).
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Number of Availability Zones, 2 or 3. Subnet CIDRs do not move when this grows.
   *
   * @default - from the preset (dev 2, staging 2, prod 3)
   */
  readonly maxAzs?: number;

  /**
   * NAT for the web and app subnets.
   *
   * @default - from the preset (dev `NatMode.instance()`, staging `NatMode.singleGateway()`, prod `NatMode.gatewayPerAz()`)
   */
  readonly natMode?: NatMode;

  /**
   * Interface VPC endpoints to create (in the app subnets, reachable from the tiers wired to them).
   * The S3 gateway endpoint is always created.
   *
   * @default - from the preset (dev and staging none, prod all); with `NatMode.none()` at least SSM,
   * SSM messages, EC2 messages, Secrets Manager, CloudWatch Logs and CloudFormation are added
   */
  readonly interfaceEndpoints?: InterfaceEndpointService[];

  /**
   * Retention of the VPC flow logs.
   *
   * @default - from the preset (dev one week, staging one month, prod one year)
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The subnet group names, which are also the tier names of the address plan. */
const SUBNET_GROUPS = {
  public: 'Public',
  web: 'Web',
  app: 'App',
  data: 'Data',
};

/** Endpoints a VPC without NAT needs for instances to be managed and to signal CloudFormation. */
const NO_NAT_ENDPOINTS = [
  InterfaceEndpointService.SSM,
  InterfaceEndpointService.SSM_MESSAGES,
  InterfaceEndpointService.EC2_MESSAGES,
  InterfaceEndpointService.SECRETS_MANAGER,
  InterfaceEndpointService.CLOUDWATCH_LOGS,
  InterfaceEndpointService.CLOUDFORMATION,
];

/**
 * The network tier: a VPC over 2 or 3 AZs with public, web, app and data subnets on a fixed
 * address plan, NAT as chosen, an S3 gateway endpoint, optional interface endpoints, KMS-encrypted
 * flow logs and a restricted default security group.
 */
export class NetworkTier extends Construct {
  /** The VPC. */
  public readonly vpc: ec2.Vpc;
  /** Public subnets. */
  public readonly publicSubnets: ec2.SubnetSelection = { subnetGroupName: SUBNET_GROUPS.public };
  /** Web subnets. */
  public readonly webSubnets: ec2.SubnetSelection = { subnetGroupName: SUBNET_GROUPS.web };
  /** App subnets. */
  public readonly appSubnets: ec2.SubnetSelection = { subnetGroupName: SUBNET_GROUPS.app };
  /** Data subnets (isolated: no route to an internet or NAT gateway). */
  public readonly dataSubnets: ec2.SubnetSelection = { subnetGroupName: SUBNET_GROUPS.data };
  /** The S3 gateway endpoint. */
  public readonly s3Endpoint: ec2.GatewayVpcEndpoint;
  /** The flow log group (KMS-encrypted). */
  public readonly flowLogGroup: logs.LogGroup;
  /** The KMS key encrypting the flow logs. */
  public readonly flowLogKey: kms.Key;
  /** The NAT mode in effect. */
  public readonly natMode: NatMode;
  /** The number of AZs. */
  public readonly maxAzs: number;
  /** The VPC CIDR. */
  public readonly cidr: string;
  /** The security group shared by the interface endpoints, if there are any. */
  public readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** The interface endpoints in effect. */
  public readonly interfaceEndpointServices: InterfaceEndpointService[];

  private readonly endpoints = new Map<InterfaceEndpointService, ec2.InterfaceVpcEndpoint>();
  private readonly natInstanceProvider?: ec2.NatInstanceProviderV2;

  constructor(scope: Construct, id: string, props: NetworkTierProps = {}) {
    super(scope, id);
    const preset = (props.preset ?? Preset.dev()).values;

    this.cidr = props.cidr ?? '10.0.0.0/16';
    const parsed = parseCidr(this.cidr);
    if (!parsed) {
      invalid(this, 'cidr', this.cidr, 'must be an IPv4 network address with a prefix length, e.g. 10.0.0.0/16');
    }
    if (parsed.prefix < MIN_VPC_PREFIX || parsed.prefix > MAX_VPC_PREFIX) {
      invalid(this, 'cidr', this.cidr,
        `must have a prefix length from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}: 8 tier blocks x ${MAX_AZ_SLOTS} AZ slots must each hold a subnet of /28 or larger`);
    }

    this.maxAzs = props.maxAzs ?? preset.maxAzs;
    checkIntRange(this, 'maxAzs', this.maxAzs, 2, Math.min(3, MAX_AZ_SLOTS));
    this.natMode = props.natMode ?? preset.natMode;

    const requested = props.interfaceEndpoints ?? preset.interfaceEndpoints;
    const services = new Set<InterfaceEndpointService>(requested);
    if (!this.natMode.hasEgress) NO_NAT_ENDPOINTS.forEach((s) => services.add(s));
    this.interfaceEndpointServices = [...services].sort();

    const privateType = this.natMode.hasEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    const cidrMask = subnetPrefix(parsed.prefix);
    if (this.natMode.mode === 'instance') {
      this.natInstanceProvider = ec2.NatProvider.instanceV2({
        instanceType: this.natMode.instanceType!,
        associatePublicIpAddress: true,
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
      });
    }

    this.flowLogKey = createLogKey(this, 'FlowLogKey', 'the VPC flow logs');
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: props.flowLogRetention ?? preset.flowLogRetention,
      encryptionKey: this.flowLogKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: new StableAddressPlan(this.cidr),
      maxAzs: this.maxAzs,
      natGateways: this.natMode.natCount(this.maxAzs),
      natGatewayProvider: this.natInstanceProvider,
      natGatewaySubnets: this.natMode.hasEgress ? this.publicSubnets : undefined,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: SUBNET_GROUPS.public, subnetType: ec2.SubnetType.PUBLIC, cidrMask, mapPublicIpOnLaunch: false },
        { name: SUBNET_GROUPS.web, subnetType: privateType, cidrMask },
        { name: SUBNET_GROUPS.app, subnetType: privateType, cidrMask },
        { name: SUBNET_GROUPS.data, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask },
      ],
      flowLogs: {
        FlowLogs: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, new ManagedPolicyRole(this, 'FlowLogRole', {
            assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
            description: `Delivers the VPC flow logs of ${this.node.path}`,
          })),
          trafficType: ec2.FlowLogTrafficType.ALL,
        },
      },
    });

    if (this.vpc.availabilityZones.length < this.maxAzs) {
      invalid(this, 'maxAzs', this.maxAzs,
        `needs a stack with an explicit account and region: this stack offers ${this.vpc.availabilityZones.length} AZs (an environment-agnostic stack gets 2)`);
    }

    for (const subnet of this.vpc.publicSubnets) {
      const route = subnet.node.tryFindChild('DefaultRoute');
      if (route) acknowledge(route, 'publicRouteToInternetGateway');
    }
    for (const instance of this.natInstanceProvider?.gatewayInstances ?? []) {
      acknowledge(instance, 'natInstance');
    }

    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3Endpoint', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.webSubnets, this.appSubnets, this.dataSubnets],
    });

    if (this.interfaceEndpointServices.length > 0) {
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from the tiers wired to them',
        allowAllOutbound: false,
      });
    }
    for (const service of this.interfaceEndpointServices) {
      this.endpoints.set(service, this.vpc.addInterfaceEndpoint(endpointId(service), {
        service: awsService(service),
        subnets: this.appSubnets,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [this.endpointSecurityGroup!],
      }));
    }
  }

  /** The interface endpoint for a service, if this tier has one. */
  public endpoint(service: InterfaceEndpointService): ec2.InterfaceVpcEndpoint | undefined {
    return this.endpoints.get(service);
  }

  /** Lets a peer use the interface endpoints and the NAT instance (if any) on port 443. */
  public allowEgressFrom(peer: ec2.IConnectable): void {
    if (this.endpointSecurityGroup) {
      this.endpointSecurityGroup.connections.allowFrom(peer, ec2.Port.tcp(443), 'HTTPS to the interface endpoints');
    }
    if (this.natInstanceProvider) {
      this.natInstanceProvider.connections.allowFrom(peer, ec2.Port.tcp(443));
    }
  }

  /** The planned CIDR of a tier's subnet (`Public`, `Web`, `App`, `Data`) in the AZ with the given index. */
  public plannedSubnetCidr(tier: string, azIndex: number): string {
    if (TIER_SLOTS[tier] === undefined) invalid(this, 'tier', tier, `must be one of ${Object.keys(TIER_SLOTS).join(', ')}`);
    checkIntRange(this, 'azIndex', azIndex, 0, this.maxAzs - 1);
    return subnetCidr(this.cidr, tier, azIndex);
  }
}

/**
 * Allocates every subnet at its fixed slot of the address plan (see address-plan.ts).
 */
class StableAddressPlan implements ec2.IIpAddresses {
  constructor(private readonly cidr: string) {}

  public allocateVpcCidr(): ec2.VpcIpamOptions {
    return { cidrBlock: this.cidr };
  }

  public allocateSubnetsCidr(input: ec2.AllocateCidrRequest): ec2.SubnetIpamOptions {
    const azs: string[] = [];
    for (const s of input.requestedSubnets) {
      if (!azs.includes(s.availabilityZone)) azs.push(s.availabilityZone);
    }
    return {
      allocatedSubnets: input.requestedSubnets.map((s) => ({
        cidr: subnetCidr(this.cidr, s.configuration.name, azs.indexOf(s.availabilityZone)),
      })),
    };
  }
}
