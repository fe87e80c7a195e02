import { Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IConstruct } from 'constructs';
import type { NetworkTierProps } from './network-tier-props';
import { InterfaceEndpointService } from './options/endpoints';
import { invalid } from '../private/validation';

/** The subnets of each tier. */
export interface TierSubnets {
  readonly publicSubnets: ec2.SubnetSelection;
  readonly webSubnets: ec2.SubnetSelection;
  readonly appSubnets: ec2.SubnetSelection;
  readonly dataSubnets: ec2.SubnetSelection;
}

/** The inputs of a tier built in an existing VPC. */
export interface ExistingVpcInputs {
  readonly existingVpc: ec2.IVpc;
  /** The subnets of each tier, as selected (or defaulted). */
  readonly subnets: TierSubnets;
  /** The interface endpoints to create, sorted. */
  readonly interfaceEndpoints: InterfaceEndpointService[];
  /** Not set: the number of AZs is the existing VPC's. */
  readonly maxAzs?: undefined;
}

/** The subnets of each tier in an existing VPC when the user selects none. */
export const DEFAULT_EXISTING_SUBNETS: TierSubnets = {
  publicSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  webSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  appSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
  dataSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
};

/** Props that shape the VPC the tier creates, and so mean nothing with an existing one. */
const CREATED_VPC_ONLY = ['cidr', 'maxAzs', 'egress', 'natMode', 'flowLogRetention'] as const;
/** The props that select the subnets of each tier. */
export const SUBNET_PROPS = ['publicSubnets', 'webSubnets', 'appSubnets', 'dataSubnets'] as const;

/**
 * Validates the inputs of a tier in an existing VPC: no prop of a created VPC, and subnet
 * selections that each give at least 2 subnets in 2 AZs (the load balancers and RDS subnet groups
 * need them), the data subnets not public.
 */
export function resolveExistingVpcInputs(
  scope: IConstruct,
  props: NetworkTierProps,
  propPrefix: string,
  endpoints: (value: InterfaceEndpointService[], prop: string) => InterfaceEndpointService[],
): ExistingVpcInputs {
  const vpc = props.vpc!;
  for (const prop of CREATED_VPC_ONLY) {
    if (props[prop] !== undefined) {
      invalid(scope, `${propPrefix}${prop}`, props[prop],
        'applies only to the VPC the tier creates: with an existing vpc, its owner decides its addresses, AZs, NAT, routes and flow logs');
    }
  }
  const subnets = Object.fromEntries(SUBNET_PROPS.map((prop) => [prop, props[prop] ?? DEFAULT_EXISTING_SUBNETS[prop]])) as unknown as TierSubnets;
  for (const prop of SUBNET_PROPS) checkSelection(scope, vpc, `${propPrefix}${prop}`, subnets[prop]);
  checkNotPublic(scope, vpc, `${propPrefix}dataSubnets`, subnets.dataSubnets);
  const interfaceEndpoints = endpoints(props.interfaceEndpoints ?? [], `${propPrefix}interfaceEndpoints`);
  return { existingVpc: vpc, subnets, interfaceEndpoints };
}

/** The subnets a selection gives, or an error naming the prop when the VPC has none of that kind. */
function select(scope: IConstruct, vpc: ec2.IVpc, prop: string, selection: ec2.SubnetSelection): ec2.SelectedSubnets {
  try {
    return vpc.selectSubnets(selection);
  } catch (e) {
    return invalid(scope, prop, describeSelection(selection), `selects no subnets of ${vpc.node.path}: ${(e as Error).message}`);
  }
}

/** At least 2 subnets in 2 AZs (AZs that are tokens are not counted: CloudFormation checks them). */
function checkSelection(scope: IConstruct, vpc: ec2.IVpc, prop: string, selection: ec2.SubnetSelection): void {
  const selected = select(scope, vpc, prop, selection);
  const azs = selected.availabilityZones;
  if (azs.some((az) => Token.isUnresolved(az)) || Token.isUnresolved(selected.subnetIds)) return;
  const azCount = new Set(azs).size;
  if (selected.subnetIds.length < 2 || azCount < 2) {
    invalid(scope, prop, `${selected.subnetIds.length} subnet(s) in ${azCount} AZ(s)`,
      'must select at least 2 subnets in 2 AZs: load balancers and RDS subnet groups (and Multi-AZ) need 2 AZs');
  }
}

/** The database must not be in a public subnet (a subnet with a route to an internet gateway). */
function checkNotPublic(scope: IConstruct, vpc: ec2.IVpc, prop: string, selection: ec2.SubnetSelection): void {
  const publicIds = new Set(vpc.publicSubnets.map((s) => s.subnetId));
  const selected = vpc.selectSubnets(selection).subnetIds;
  if (selection.subnetType === ec2.SubnetType.PUBLIC || selected.some((id) => publicIds.has(id))) {
    invalid(scope, prop, describeSelection(selection),
      'must not select public subnets: the database belongs in subnets without a route to an internet gateway (PRIVATE_ISOLATED, or PRIVATE_WITH_EGRESS)');
  }
}

/** A selection as an error message shows it. */
export function describeSelection(selection: ec2.SubnetSelection): string {
  const parts: string[] = [];
  if (selection.subnetType !== undefined) parts.push(`subnetType ${selection.subnetType}`);
  if (selection.subnetGroupName !== undefined) parts.push(`subnetGroupName ${selection.subnetGroupName}`);
  if (selection.availabilityZones !== undefined) parts.push(`availabilityZones ${selection.availabilityZones.join(',')}`);
  if (selection.subnets !== undefined) parts.push(`${selection.subnets.length} subnet(s)`);
  if (selection.subnetFilters !== undefined) parts.push(`${selection.subnetFilters.length} filter(s)`);
  return parts.join(', ') || 'all subnets';
}
