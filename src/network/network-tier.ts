import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { subnetCidr, subnetPrefix, TIER_SLOTS, tierBlockCidr } from './address-plan';
import { awsOwnedBuckets } from './aws-buckets';
import { resolveNetworkInputs } from './network-inputs';
import { InterfaceEndpointService } from './options/endpoints';
import { EgressMode, NatMode } from './options/nat-mode';
import { planSubnetTraffic, SubnetGroup } from './subnet-traffic';
import { Preset } from '../preset/preset';
import { acknowledge } from '../private/compliance';
import { awsService, endpointId } from '../private/endpoints';
import { createLogKey } from '../private/fleet';
import { ManagedPolicyRole } from '../private/managed-policy-role';
import { moveProviderInlinePolicies } from '../private/no-inline-policies';
import { checkIntRange, checkPort, invalid, literalNumber } from '../private/validation';

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
   * IPv4 CIDR of the VPC: a network address inside a private range of RFC 1918 (10.0.0.0/8,
   * 172.16.0.0/12, 192.168.0.0/16), written without leading zeros, with a prefix length from /16
   * to /23. Each tier in each AZ gets a subnet 5 bits longer (a /16 gives /21 subnets). Must be a
   * literal: the address plan is computed at synth time.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * Number of Availability Zones, 2 or 3. Subnet CIDRs do not move when this grows. A token that
   * resolves at synth time (`Lazy.number`) is resolved; a deploy-time value (a CloudFormation
   * parameter) is refused.
   *
   * @default - from the preset (dev 2, staging 2, prod 3)
   */
  readonly maxAzs?: number;

  /**
   * Where the web and app subnets may send traffic that leaves the VPC: HTTPS to the internet
   * through NAT, or AWS services only (VPC endpoints, no NAT). `EgressMode.AWS_SERVICES_ONLY` with
   * a `natMode` other than `NatMode.none()`, or `EgressMode.INTERNET_HTTPS` with
   * `NatMode.none()`, fails at synth time.
   *
   * @default - from `natMode` when only that is given (`NatMode.none()` means AWS services only),
   * otherwise from the preset (dev and staging `INTERNET_HTTPS`, prod `AWS_SERVICES_ONLY`)
   */
  readonly egress?: EgressMode;

  /**
   * NAT for the web and app subnets (with `EgressMode.INTERNET_HTTPS`).
   *
   * @default - `NatMode.none()` with AWS-only egress, otherwise from the preset (dev
   * `NatMode.instance()`, staging `NatMode.singleGateway()`, prod `NatMode.gatewayPerAz()`)
   */
  readonly natMode?: NatMode;

  /**
   * Interface VPC endpoints to create (in the app subnets, reachable from the tiers wired to them).
   * The S3 gateway endpoint is always created.
   *
   * @default - from the preset (dev and staging none, prod all); with AWS-only egress at least SSM,
   * SSM messages, EC2 messages, Secrets Manager, CloudWatch Logs and CloudFormation are added
   */
  readonly interfaceEndpoints?: InterfaceEndpointService[];

  /**
   * Retention of the VPC flow logs: a `logs.RetentionDays` value.
   *
   * @default - from the preset (dev one week, staging one month, prod one year)
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * What a bucket allowed through the restricted S3 gateway endpoint may be used for.
 */
export enum S3EndpointAccess {
  /** `s3:GetObject` on its objects and `s3:ListBucket`. */
  READ = 'read',
  /** `s3:GetObject`, `s3:PutObject` and `s3:DeleteObject` on its objects and `s3:ListBucket`. */
  READ_WRITE = 'read-write',
}

/**
 * The ports of the traffic between the tiers, from which `restrictSubnetTraffic` derives the
 * network ACL rules.
 */
export interface SubnetTrafficOptions {
  /** Port of the database in the data subnets. */
  readonly databasePort: number;
  /** Port the API instances in the app subnets listen on. */
  readonly appPort: number;
  /** Port of the internal load balancer's listener in the app subnets. */
  readonly appListenerPort: number;
  /**
   * Port the web instances listen on (the public load balancer's target port).
   *
   * @default 80
   */
  readonly webPort?: number;
  /**
   * Listener ports of the public load balancer (1 to 10 ports).
   *
   * @default [80, 443]
   */
  readonly publicListenerPorts?: number[];
  /**
   * Functions run in the data subnets (the credential rotation function when it uses the Secrets
   * Manager endpoint): the data subnets then admit the database port from each other (across AZs)
   * and, if there are interface endpoints, reach them on 443.
   *
   * @default false
   */
  readonly dataSubnetFunctions?: boolean;
}

/**
 * One network ACL entry made by `restrictSubnetTraffic`.
 */
export interface SubnetTrafficRule {
  /** The subnet group whose network ACL holds the entry: `Public`, `Web`, `App` or `Data`. */
  readonly subnetGroup: string;
  /** The rule number (lower numbers are evaluated first). */
  readonly ruleNumber: number;
  /** Outbound (true) or inbound (false). */
  readonly egress: boolean;
  /** Allow (true) or deny (false). */
  readonly allow: boolean;
  /** `tcp`, or `all` for the deny rules. */
  readonly protocol: string;
  /** First port of the range (TCP rules). @default - all ports */
  readonly fromPort?: number;
  /** Last port of the range (TCP rules). @default - all ports */
  readonly toPort?: number;
  /** The peer's CIDR. */
  readonly cidr: string;
  /** The peer in words: `web subnets`, `the VPC`, `anywhere`. */
  readonly peer: string;
  /** Why the entry exists. */
  readonly purpose: string;
}

/** The subnet group names, which are also the tier names of the address plan. */
const SUBNET_GROUPS = {
  public: 'Public',
  web: 'Web',
  app: 'App',
  data: 'Data',
};

/**
 * The network tier: a VPC over 2 or 3 AZs with public, web, app and data subnets on a fixed
 * address plan, internet egress through NAT or AWS-only egress through VPC endpoints, an S3 gateway
 * endpoint, optional interface endpoints, KMS-encrypted flow logs and a restricted default
 * security group. Two restrictions are opt-in, because they depend on what runs in the subnets:
 * `restrictS3Endpoint()` (with `allowS3Bucket`/`allowS3Asset`) and `restrictSubnetTraffic()`
 * (network ACLs). The platform turns both on.
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
  /** The egress in effect. */
  public readonly egress: EgressMode;
  /** The NAT mode in effect (`NatMode.none()` with AWS-only egress). */
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
  private s3Restricted = false;
  private readonly s3Allowed: Array<() => iam.PolicyStatement[]> = [];
  private readonly acls = new Map<string, ec2.NetworkAcl>();
  private trafficRules: SubnetTrafficRule[] = [];

  constructor(scope: Construct, id: string, props: NetworkTierProps = {}) {
    super(scope, id);
    const inputs = resolveNetworkInputs(this, props);
    this.cidr = inputs.cidr;
    this.maxAzs = inputs.maxAzs;
    this.egress = inputs.egress;
    this.natMode = inputs.natMode;
    this.interfaceEndpointServices = inputs.interfaceEndpoints;

    const privateType = this.natMode.hasEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    const cidrMask = subnetPrefix(inputs.prefix);
    if (this.natMode.mode === 'instance') {
      this.natInstanceProvider = ec2.NatProvider.instanceV2({
        instanceType: this.natMode.instanceType!,
        associatePublicIpAddress: true,
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
      });
    }

    this.flowLogKey = createLogKey(this, 'FlowLogKey', 'the VPC flow logs');
    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: inputs.flowLogRetention,
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
    moveProviderInlinePolicies(this);
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

  /**
   * Limits the S3 gateway endpoint, which carries all S3 traffic of the web, app and data subnets,
   * to what instances need: `s3:GetObject` on the Amazon Linux 2023 package repositories and on
   * the buckets SSM Agent reads (agent updates, Run Command modules, Patch Manager), plus the
   * buckets and assets given to `allowS3Bucket` and `allowS3Asset` (before or after this call).
   * Every other bucket becomes unreachable from these subnets, which closes S3 as a way out of
   * the VPC. Without this call the endpoint allows all of S3 (its default policy).
   */
  public restrictS3Endpoint(): void {
    if (this.s3Restricted) return;
    this.s3Restricted = true;
    const aws = awsOwnedBuckets(this);
    const read = (sid: string, resources: string[]) => new iam.PolicyStatement({
      sid, principals: [new iam.AnyPrincipal()], actions: ['s3:GetObject'], resources,
    });
    this.s3Endpoint.addToPolicy(read('AmazonLinuxRepositories', aws.packageRepositories));
    this.s3Endpoint.addToPolicy(read('SsmAgent', aws.ssmAgent));
    if (!aws.patching) {
      Annotations.of(this).addWarningV2('cdk-three-tier:s3EndpointPatching',
        `The S3 endpoint of ${this.node.path} does not name Patch Manager's buckets: their names carry a per-region suffix, known here for a literal stack region only. ` +
        'Patching with AWS-RunPatchBaseline needs them: allow them with allowS3Bucket(s3.Bucket.fromBucketName(...), S3EndpointAccess.READ).');
    }
    for (const allowed of this.s3Allowed) allowed().forEach((st) => this.s3Endpoint.addToPolicy(st));
  }

  /**
   * Lets the web, app and data subnets use a bucket through the S3 endpoint once it is restricted
   * (`restrictS3Endpoint`); before that, every bucket is reachable anyway. The instances' roles
   * still decide what each of them may do.
   *
   * @param access what the bucket may be used for. @default S3EndpointAccess.READ_WRITE
   */
  public allowS3Bucket(bucket: s3.IBucket, access?: S3EndpointAccess): void {
    const actions = (access ?? S3EndpointAccess.READ_WRITE) === S3EndpointAccess.READ
      ? ['s3:GetObject']
      : ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];
    this.addS3Allowance(() => [
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions, resources: [bucket.arnForObjects('*')] }),
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
    ]);
  }

  /**
   * Lets the web, app and data subnets read one file asset (exactly its object in the CDK asset
   * bucket) through the S3 endpoint once it is restricted. Instances that download their code or
   * content at boot need this for each asset.
   */
  public allowS3Asset(asset: s3assets.Asset): void {
    this.addS3Allowance(() => [new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
    })]);
  }

  /** Whether `restrictS3Endpoint` was called. */
  public get s3EndpointRestricted(): boolean {
    return this.s3Restricted;
  }

  private addS3Allowance(statements: () => iam.PolicyStatement[]): void {
    this.s3Allowed.push(statements);
    if (this.s3Restricted) statements().forEach((st) => this.s3Endpoint.addToPolicy(st));
  }

  /**
   * Puts a network ACL on each subnet group that admits only the traffic between the tiers, on
   * the given ports, and its return traffic (network ACLs are stateless: responses go to the
   * ephemeral ports 1024-65535):
   *
   * - public: the load balancer listeners from anywhere, the load balancer to the web port, and
   *   (with NAT) HTTPS from the web and app subnets out to the internet;
   * - web: the web port from the public subnets, the internal listener and (with interface
   *   endpoints) 443 to the app subnets, HTTPS out of the VPC (NAT or the S3 gateway endpoint);
   * - app: the internal listener from the web subnets, the app port between app subnets, the
   *   interface endpoints on 443, the database port to the data subnets, HTTPS out of the VPC;
   * - data: the database port from the app subnets (and from the data subnets with
   *   `dataSubnetFunctions`), nothing across the VPC boundary.
   *
   * Everything else inside the VPC is denied before the rules for traffic that crosses the VPC
   * boundary. Security groups stay the finer control; the ACLs are a second layer per subnet.
   * Call it once, after the tiers exist (their ports are final then). The interface endpoints
   * admitted are this tier's, in the app subnets: an endpoint created elsewhere (such as the
   * Secrets Manager endpoint a DataTier makes in the data subnets when it gets neither
   * `rotationEndpoint` nor `rotationSubnets`) is not reachable through the ACLs.
   */
  public restrictSubnetTraffic(options: SubnetTrafficOptions): void {
    if (this.acls.size > 0) throw new Error(`restrictSubnetTraffic was already called on ${this.node.path}`);
    const port = (prop: string, value: number) => {
      const n = literalNumber(this, prop, value, 'network ACL rules are written at synth time');
      checkPort(this, prop, n);
      return n;
    };
    const publicListenerPorts = options.publicListenerPorts ?? [80, 443];
    if (!Array.isArray(publicListenerPorts) || publicListenerPorts.length < 1 || publicListenerPorts.length > 10) {
      invalid(this, 'publicListenerPorts', publicListenerPorts, 'must list 1 to 10 ports');
    }
    const blocks = Object.fromEntries(Object.keys(TIER_SLOTS).map((g) => [g, tierBlockCidr(this.cidr, g)])) as Record<SubnetGroup, string>;
    this.trafficRules = planSubnetTraffic({
      vpcCidr: this.cidr,
      blocks,
      nat: this.natMode.hasEgress,
      endpoints: this.interfaceEndpointServices.length > 0,
      publicListenerPorts: [...new Set(publicListenerPorts.map((p) => port('publicListenerPorts', p)))],
      webPort: port('webPort', options.webPort ?? 80),
      appListenerPort: port('appListenerPort', options.appListenerPort),
      appPort: port('appPort', options.appPort),
      databasePort: port('databasePort', options.databasePort),
      dataSubnetFunctions: options.dataSubnetFunctions ?? false,
    });

    const selections: Record<string, ec2.SubnetSelection> = {
      Public: this.publicSubnets, Web: this.webSubnets, App: this.appSubnets, Data: this.dataSubnets,
    };
    for (const group of Object.keys(selections)) {
      const acl = new ec2.NetworkAcl(this, `${group}Acl`, { vpc: this.vpc, subnetSelection: selections[group] });
      acknowledge(acl, 'networkAcls');
      this.acls.set(group, acl);
    }
    for (const rule of this.trafficRules) {
      const direction = rule.egress ? 'Egress' : 'Ingress';
      this.acls.get(rule.subnetGroup)!.addEntry(`${direction}${rule.ruleNumber}`, {
        ruleNumber: rule.ruleNumber,
        direction: rule.egress ? ec2.TrafficDirection.EGRESS : ec2.TrafficDirection.INGRESS,
        ruleAction: rule.allow ? ec2.Action.ALLOW : ec2.Action.DENY,
        cidr: ec2.AclCidr.ipv4(rule.cidr),
        traffic: rule.protocol === 'all' ? ec2.AclTraffic.allTraffic() : ec2.AclTraffic.tcpPortRange(rule.fromPort!, rule.toPort!),
      });
    }
  }

  /** The network ACL entries `restrictSubnetTraffic` made (none before it is called). */
  public get subnetTrafficRules(): SubnetTrafficRule[] {
    return [...this.trafficRules];
  }

  /** The network ACL of a subnet group (`Public`, `Web`, `App`, `Data`), once `restrictSubnetTraffic` made it. */
  public networkAcl(subnetGroup: string): ec2.NetworkAcl | undefined {
    return this.acls.get(subnetGroup);
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
