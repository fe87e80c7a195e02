import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { subnetCidr, TIER_SLOTS } from './address-plan';
import { awsOwnedBuckets } from './aws-buckets';
import { createVpc, CREATED_VPC_SUBNETS } from './created-vpc';
import { TierSubnets } from './existing-vpc-inputs';
import { resolveNetworkInputs } from './network-inputs';
import { NetworkTierProps } from './network-tier-props';
import { InterfaceEndpointService } from './options/endpoints';
import { EgressMode, NatMode } from './options/nat-mode';
import { S3EndpointAccess } from './options/s3-endpoint-access';
import { SubnetTrafficOptions, SubnetTrafficRule } from './options/subnet-traffic-options';
import { checkSubnetTrafficOptions, createSubnetAcls, planCreatedVpcTraffic } from './subnet-acls';
import { awsService, endpointId } from '../private/endpoints';
import { moveProviderInlinePolicies } from '../private/no-inline-policies';
import { checkIntRange, invalid } from '../private/validation';

// The tier's public types, also reachable from where they were before they had files of their own.
export * from './network-tier-props';
export * from './options/s3-endpoint-access';
export * from './options/subnet-traffic-options';

/**
 * The network tier: a VPC over 2 or 3 AZs with public, web, app and data subnets on a fixed
 * address plan, internet egress through NAT or AWS-only egress through VPC endpoints, an S3 gateway
 * endpoint, optional interface endpoints, KMS-encrypted flow logs and a restricted default
 * security group. Two restrictions are opt-in, because they depend on what runs in the subnets:
 * `restrictS3Endpoint()` (with `allowS3Bucket`/`allowS3Asset`) and `restrictSubnetTraffic()`
 * (network ACLs). The platform turns both on.
 *
 * Given an existing `vpc`, the tier only selects the subnets of each tier in it and creates the
 * interface endpoints listed: the VPC's routes, NAT, flow logs, gateway endpoints and network ACLs
 * stay its owner's, and the two restrictions do nothing.
 */
export class NetworkTier extends Construct {
  /** The VPC: the one the tier created, or the existing one it was given. */
  public readonly vpc: ec2.IVpc;
  /** Whether the tier created the VPC (false when it was given an existing `vpc`). */
  public readonly createdVpc: boolean;
  /** Public subnets. */
  public readonly publicSubnets: ec2.SubnetSelection;
  /** Web subnets. */
  public readonly webSubnets: ec2.SubnetSelection;
  /** App subnets. */
  public readonly appSubnets: ec2.SubnetSelection;
  /** Data subnets (in a VPC the tier creates: isolated, no route to an internet or NAT gateway). */
  public readonly dataSubnets: ec2.SubnetSelection;
  /** The S3 gateway endpoint (none in an existing VPC). */
  public readonly s3Endpoint?: ec2.GatewayVpcEndpoint;
  /** The flow log group, KMS-encrypted (none in an existing VPC). */
  public readonly flowLogGroup?: logs.LogGroup;
  /** The KMS key encrypting the flow logs (none in an existing VPC). */
  public readonly flowLogKey?: kms.Key;
  /** The egress in effect (undefined in an existing VPC: its routes decide). */
  public readonly egress?: EgressMode;
  /** The NAT mode in effect, `NatMode.none()` with AWS-only egress (undefined in an existing VPC). */
  public readonly natMode?: NatMode;
  /** The number of AZs (in an existing VPC: the number of AZs it names). */
  public readonly maxAzs: number;
  /** The VPC CIDR (undefined in an existing VPC: see `vpc.vpcCidrBlock`). */
  public readonly cidr?: string;
  /** The security group shared by the interface endpoints, if there are any. */
  public readonly endpointSecurityGroup?: ec2.SecurityGroup;
  /** The interface endpoints in effect. */
  public readonly interfaceEndpointServices: InterfaceEndpointService[];

  private readonly endpoints = new Map<InterfaceEndpointService, ec2.InterfaceVpcEndpoint>();
  private readonly natInstanceProvider?: ec2.NatInstanceProviderV2;
  private s3Restricted = false;
  private readonly s3Allowed: Array<() => iam.PolicyStatement[]> = [];
  private acls = new Map<string, ec2.NetworkAcl>();
  private trafficRules: SubnetTrafficRule[] = [];
  private trafficRestricted = false;

  constructor(scope: Construct, id: string, props: NetworkTierProps = {}) {
    super(scope, id);
    const inputs = resolveNetworkInputs(this, props);
    this.interfaceEndpointServices = inputs.interfaceEndpoints;
    let subnets: TierSubnets;
    if (inputs.existingVpc) {
      this.vpc = inputs.existingVpc;
      this.createdVpc = false;
      this.maxAzs = this.vpc.availabilityZones.length;
      subnets = inputs.subnets;
    } else {
      const created = createVpc(this, inputs);
      this.vpc = created.vpc;
      this.createdVpc = true;
      ({ cidr: this.cidr, maxAzs: this.maxAzs, egress: this.egress, natMode: this.natMode } = inputs);
      ({ flowLogKey: this.flowLogKey, flowLogGroup: this.flowLogGroup, s3Endpoint: this.s3Endpoint } = created);
      this.natInstanceProvider = created.natInstanceProvider;
      subnets = CREATED_VPC_SUBNETS;
    }
    ({ publicSubnets: this.publicSubnets, webSubnets: this.webSubnets, appSubnets: this.appSubnets, dataSubnets: this.dataSubnets } = subnets);
    this.endpointSecurityGroup = this.createInterfaceEndpoints();
    if (this.createdVpc) moveProviderInlinePolicies(this);
  }

  /**
   * The interface endpoints, in the app subnets, behind one security group. In the VPC the tier
   * created they are the VPC's children (as they always were: their logical IDs stay); in an
   * existing VPC they are this tier's, so nothing is added to a construct the tier does not own.
   */
  private createInterfaceEndpoints(): ec2.SecurityGroup | undefined {
    if (this.interfaceEndpointServices.length === 0) return undefined;
    const securityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from the tiers wired to them',
      allowAllOutbound: false,
    });
    for (const service of this.interfaceEndpointServices) {
      const options: ec2.InterfaceVpcEndpointOptions = {
        service: awsService(service),
        subnets: this.appSubnets,
        privateDnsEnabled: true,
        open: false,
        securityGroups: [securityGroup],
      };
      this.endpoints.set(service, this.createdVpc
        ? this.vpc.addInterfaceEndpoint(endpointId(service), options)
        : new ec2.InterfaceVpcEndpoint(this, endpointId(service), { vpc: this.vpc, ...options }));
    }
    return securityGroup;
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
   *
   * In an existing VPC the tier has no S3 endpoint, and this does nothing: the VPC's owner
   * decides what its S3 endpoints (if any) allow.
   */
  public restrictS3Endpoint(): void {
    if (this.s3Restricted || !this.s3Endpoint) return;
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
    for (const allowed of this.s3Allowed) allowed().forEach((st) => this.s3Endpoint!.addToPolicy(st));
  }

  /**
   * Lets the web, app and data subnets use a bucket through the S3 endpoint once it is restricted
   * (`restrictS3Endpoint`); before that, every bucket is reachable anyway. The instances' roles
   * still decide what each of them may do. Does nothing in an existing VPC (no S3 endpoint of the
   * tier's).
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
   * content at boot need this for each asset. Does nothing in an existing VPC.
   */
  public allowS3Asset(asset: s3assets.Asset): void {
    this.addS3Allowance(() => [new iam.PolicyStatement({
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
    })]);
  }

  /** Whether `restrictS3Endpoint` restricted the tier's S3 endpoint (never in an existing VPC). */
  public get s3EndpointRestricted(): boolean {
    return this.s3Restricted;
  }

  private addS3Allowance(statements: () => iam.PolicyStatement[]): void {
    if (!this.s3Endpoint) return;
    this.s3Allowed.push(statements);
    if (this.s3Restricted) statements().forEach((st) => this.s3Endpoint!.addToPolicy(st));
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
   *
   * In an existing VPC this checks the options and makes no ACL: a subnet has one network ACL, and
   * one the tier attached would replace the owner's for every workload in that subnet.
   */
  public restrictSubnetTraffic(options: SubnetTrafficOptions): void {
    if (this.trafficRestricted) throw new Error(`restrictSubnetTraffic was already called on ${this.node.path}`);
    this.trafficRestricted = true;
    const ports = checkSubnetTrafficOptions(this, options);
    if (!this.createdVpc) return;
    const rules = planCreatedVpcTraffic(this.cidr!, this.natMode!.hasEgress, this.interfaceEndpointServices.length > 0, ports);
    this.trafficRules = rules;
    this.acls = createSubnetAcls(this, this.vpc, this, rules);
  }

  /** The network ACL entries `restrictSubnetTraffic` made (none before it is called, none in an existing VPC). */
  public get subnetTrafficRules(): SubnetTrafficRule[] {
    return [...this.trafficRules];
  }

  /** The network ACL of a subnet group (`Public`, `Web`, `App`, `Data`), once `restrictSubnetTraffic` made it. */
  public networkAcl(subnetGroup: string): ec2.NetworkAcl | undefined {
    return this.acls.get(subnetGroup);
  }

  /**
   * The planned CIDR of a tier's subnet (`Public`, `Web`, `App`, `Data`) in the AZ with the given
   * index. Only for the VPC the tier creates: an existing VPC has no address plan of the tier's.
   */
  public plannedSubnetCidr(tier: string, azIndex: number): string {
    if (!this.createdVpc) {
      throw new Error(`plannedSubnetCidr needs the VPC the tier creates: ${this.node.path} was given an existing vpc, whose addresses its owner plans`);
    }
    if (TIER_SLOTS[tier] === undefined) invalid(this, 'tier', tier, `must be one of ${Object.keys(TIER_SLOTS).join(', ')}`);
    checkIntRange(this, 'azIndex', azIndex, 0, this.maxAzs - 1);
    return subnetCidr(this.cidr!, tier, azIndex);
  }
}
