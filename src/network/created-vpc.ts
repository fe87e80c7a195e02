import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { subnetCidr, subnetPrefix } from './address-plan';
import { TierSubnets } from './existing-vpc-inputs';
import { CreatedVpcInputs } from './network-inputs';
import { acknowledge } from '../private/compliance';
import { createLogKey } from '../private/fleet';
import { ManagedPolicyRole } from '../private/managed-policy-role';

/** The subnets of each tier in the VPC the tier creates: its subnet groups, named as the tiers of the address plan. */
export const CREATED_VPC_SUBNETS: TierSubnets = {
  publicSubnets: { subnetGroupName: 'Public' },
  webSubnets: { subnetGroupName: 'Web' },
  appSubnets: { subnetGroupName: 'App' },
  dataSubnets: { subnetGroupName: 'Data' },
};

/** What `createVpc` makes. */
export interface CreatedVpc {
  readonly vpc: ec2.Vpc;
  readonly flowLogKey: kms.Key;
  readonly flowLogGroup: logs.LogGroup;
  readonly natInstanceProvider?: ec2.NatInstanceProviderV2;
  readonly s3Endpoint: ec2.GatewayVpcEndpoint;
}

/**
 * The VPC, in `scope`: public, web, app and data subnets on the fixed address plan, NAT as the
 * inputs say, KMS-encrypted flow logs, a restricted default security group and the S3 gateway
 * endpoint (for the web, app and data subnets).
 */
export function createVpc(scope: Construct, inputs: CreatedVpcInputs): CreatedVpc {
  const natInstanceProvider = inputs.natMode.mode === 'instance' ? ec2.NatProvider.instanceV2({
    instanceType: inputs.natMode.instanceType!,
    associatePublicIpAddress: true,
    defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
  }) : undefined;
  const flowLogKey = createLogKey(scope, 'FlowLogKey', 'the VPC flow logs');
  const flowLogGroup = new logs.LogGroup(scope, 'FlowLogGroup', {
    retention: inputs.flowLogRetention,
    encryptionKey: flowLogKey,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: new StableAddressPlan(inputs.cidr),
    maxAzs: inputs.maxAzs,
    natGateways: inputs.natMode.natCount(inputs.maxAzs),
    natGatewayProvider: natInstanceProvider,
    natGatewaySubnets: inputs.natMode.hasEgress ? CREATED_VPC_SUBNETS.publicSubnets : undefined,
    restrictDefaultSecurityGroup: true,
    subnetConfiguration: subnetConfiguration(inputs),
    flowLogs: {
      FlowLogs: {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup, new ManagedPolicyRole(scope, 'FlowLogRole', {
          assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com'),
          description: `Delivers the VPC flow logs of ${scope.node.path}`,
        })),
        trafficType: ec2.FlowLogTrafficType.ALL,
      },
    },
  });
  acknowledgeInternetRoutes(vpc, natInstanceProvider);
  const s3Endpoint = vpc.addGatewayEndpoint('S3Endpoint', {
    service: ec2.GatewayVpcEndpointAwsService.S3,
    subnets: [CREATED_VPC_SUBNETS.webSubnets, CREATED_VPC_SUBNETS.appSubnets, CREATED_VPC_SUBNETS.dataSubnets],
  });
  return { vpc, flowLogKey, flowLogGroup, natInstanceProvider, s3Endpoint };
}

function subnetConfiguration(inputs: CreatedVpcInputs): ec2.SubnetConfiguration[] {
  const privateType = inputs.natMode.hasEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
  const cidrMask = subnetPrefix(inputs.prefix);
  const name = (selection: ec2.SubnetSelection) => selection.subnetGroupName!;
  return [
    { name: name(CREATED_VPC_SUBNETS.publicSubnets), subnetType: ec2.SubnetType.PUBLIC, cidrMask, mapPublicIpOnLaunch: false },
    { name: name(CREATED_VPC_SUBNETS.webSubnets), subnetType: privateType, cidrMask },
    { name: name(CREATED_VPC_SUBNETS.appSubnets), subnetType: privateType, cidrMask },
    { name: name(CREATED_VPC_SUBNETS.dataSubnets), subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask },
  ];
}

/**
 * Acknowledges the public subnets' routes to the internet gateway and the NAT instance. aws-cdk-lib
 * offers no property for a subnet's default route, so the route is found among the subnet's
 * children by its type (`ec2.CfnRoute`), not by its construct id.
 */
function acknowledgeInternetRoutes(vpc: ec2.Vpc, natInstanceProvider?: ec2.NatInstanceProviderV2): void {
  for (const subnet of vpc.publicSubnets) {
    for (const route of subnet.node.children.filter((c) => c instanceof ec2.CfnRoute)) {
      acknowledge(route, 'publicRouteToInternetGateway');
    }
  }
  for (const instance of natInstanceProvider?.gatewayInstances ?? []) {
    acknowledge(instance, 'natInstance');
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
