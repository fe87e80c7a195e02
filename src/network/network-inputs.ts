import { Stack, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IConstruct } from 'constructs';
import { isPrivate, MAX_AZ_SLOTS, MAX_VPC_PREFIX, MIN_VPC_PREFIX, parseCidr, PRIVATE_RANGES } from './address-plan';
import { describeSelection, ExistingVpcInputs, resolveExistingVpcInputs, SUBNET_PROPS } from './existing-vpc-inputs';
import type { NetworkTierProps } from './network-tier-props';
import { InterfaceEndpointService } from './options/endpoints';
import { EgressMode, NatMode } from './options/nat-mode';
import { Preset, PresetValues } from '../preset/preset';
import { checkIntRange, invalid, literalNumber, literalString } from '../private/validation';

/**
 * The network inputs a NetworkTier is built from, validated, with tokens resolved and the preset
 * merged in: for a VPC the tier creates, or for an existing one. Not part of the public API:
 * `NetworkTier` and `ThreeTierPlatform` share it, so the platform's errors name the platform props
 * (`network.cidr`) before the tier sees them.
 */
export type NetworkInputs = CreatedVpcInputs | ExistingVpcInputs;

/** The inputs of a VPC the tier creates. */
export interface CreatedVpcInputs {
  readonly existingVpc?: undefined;
  readonly cidr: string;
  /** The prefix length of `cidr`. */
  readonly prefix: number;
  readonly maxAzs: number;
  readonly egress: EgressMode;
  /** The NAT in effect (`NatMode.none()` with `EgressMode.AWS_SERVICES_ONLY`). */
  readonly natMode: NatMode;
  /** The interface endpoints in effect, sorted, including those AWS-only egress needs. */
  readonly interfaceEndpoints: InterfaceEndpointService[];
  readonly flowLogRetention: logs.RetentionDays;
}

/** What the network inputs are read from: the props a user passes (to the tier or the platform). */
export type NetworkInputProps = NetworkTierProps;

/** The default VPC CIDR. */
export const DEFAULT_CIDR = '10.0.0.0/16';

/**
 * The interface endpoints instances and the rotation function need when the VPC has no NAT:
 * Session Manager (SSM, SSM messages, EC2 messages), Secrets Manager (database credentials and
 * their rotation), CloudWatch Logs and CloudFormation (cfn-signal). Packages come from the Amazon
 * Linux 2023 repositories through the S3 gateway endpoint; S3 and KMS calls for encrypted objects
 * and secrets are made by S3 and Secrets Manager themselves, so KMS is not needed.
 */
export const AWS_ONLY_ENDPOINTS = [
  InterfaceEndpointService.SSM,
  InterfaceEndpointService.SSM_MESSAGES,
  InterfaceEndpointService.EC2_MESSAGES,
  InterfaceEndpointService.SECRETS_MANAGER,
  InterfaceEndpointService.CLOUDWATCH_LOGS,
  InterfaceEndpointService.CLOUDFORMATION,
  // The CloudWatch agent: metrics, and the instance tags it reads the Auto Scaling group name from.
  InterfaceEndpointService.CLOUDWATCH_MONITORING,
  InterfaceEndpointService.EC2,
];

/** Every value of `logs.RetentionDays` (numbers; the enum also maps them back to names). */
const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
const ENDPOINT_SERVICES = Object.values(InterfaceEndpointService) as string[];
const EGRESS_MODES = Object.values(EgressMode) as string[];

/** The egress a preset implies: its `egress`, or AWS services only when its NAT is `NatMode.none()`. */
export function presetEgress(values: PresetValues): EgressMode {
  return values.egress ?? (values.natMode.hasEgress ? EgressMode.INTERNET_HTTPS : EgressMode.AWS_SERVICES_ONLY);
}

/**
 * Validates and merges the network inputs. `propPrefix` is put before the names of the props the
 * user set (`'network.'` in the platform); values taken from the preset are named
 * `preset.values.<field>`, which is where a custom preset sets them.
 */
export function resolveNetworkInputs(scope: IConstruct, props: NetworkInputProps, propPrefix = ''): NetworkInputs {
  if (props.vpc !== undefined) {
    return resolveExistingVpcInputs(scope, props, propPrefix, (value, prop) => resolveEndpoints(scope, value, prop, []));
  }
  return resolveCreatedVpcInputs(scope, props, propPrefix);
}

function resolveCreatedVpcInputs(scope: IConstruct, props: NetworkInputProps, propPrefix: string): CreatedVpcInputs {
  for (const prop of SUBNET_PROPS) {
    if (props[prop] !== undefined) {
      invalid(scope, `${propPrefix}${prop}`, describeSelection(props[prop]!),
        'applies only with an existing vpc: the VPC the tier creates has its own subnet groups (Public, Web, App, Data)');
    }
  }
  const preset = (props.preset ?? Preset.dev()).values;
  const name = (prop: 'maxAzs' | 'interfaceEndpoints' | 'flowLogRetention') =>
    (props[prop] !== undefined ? `${propPrefix}${prop}` : `preset.values.${prop}`);

  const { cidr, prefix } = resolveCidr(scope, props.cidr ?? DEFAULT_CIDR, `${propPrefix}cidr`);
  const maxAzs = resolveMaxAzs(scope, props.maxAzs ?? preset.maxAzs, name('maxAzs'));
  const { egress, natMode } = resolveEgress(scope, props, preset, propPrefix);
  const interfaceEndpoints = resolveEndpoints(scope, props.interfaceEndpoints ?? preset.interfaceEndpoints, name('interfaceEndpoints'),
    egress === EgressMode.AWS_SERVICES_ONLY ? AWS_ONLY_ENDPOINTS : []);
  const flowLogRetention = props.flowLogRetention ?? preset.flowLogRetention;
  checkRetention(scope, name('flowLogRetention'), flowLogRetention);
  return { cidr, prefix, maxAzs, egress, natMode, interfaceEndpoints, flowLogRetention };
}

function resolveCidr(scope: IConstruct, value: string, prop: string): { cidr: string; prefix: number } {
  const cidr = literalString(scope, prop, value, 'the address plan cuts it into subnets at synth time');
  const parsed = parseCidr(cidr);
  if (!parsed) {
    invalid(scope, prop, cidr, 'must be an IPv4 network address with a prefix length, written without leading zeros, e.g. 10.0.0.0/16');
  }
  if (!isPrivate(parsed)) {
    invalid(scope, prop, cidr,
      `must lie in a private range of RFC 1918 (${PRIVATE_RANGES.join(', ')}); public, loopback, link-local, multicast and shared (100.64.0.0/10, carrier-grade NAT) addresses are refused`);
  }
  if (parsed.prefix < MIN_VPC_PREFIX || parsed.prefix > MAX_VPC_PREFIX) {
    invalid(scope, prop, cidr,
      `must have a prefix length from /${MIN_VPC_PREFIX} to /${MAX_VPC_PREFIX}: 8 tier blocks x ${MAX_AZ_SLOTS} AZ slots must each hold a subnet of /28 or larger`);
  }
  return { cidr, prefix: parsed.prefix };
}

function resolveMaxAzs(scope: IConstruct, value: number, prop: string): number {
  const maxAzs = literalNumber(scope, prop, value, 'the VPC lays out one subnet per tier in each AZ at synth time');
  checkIntRange(scope, prop, maxAzs, 2, Math.min(3, MAX_AZ_SLOTS));
  const offered = Stack.of(scope).availabilityZones.length;
  if (offered < maxAzs) {
    invalid(scope, prop, maxAzs,
      `needs a stack with an explicit account and region: this stack offers ${offered} AZs (an environment-agnostic stack gets 2)`);
  }
  return maxAzs;
}

/**
 * Egress and NAT: the user's `egress` and `natMode` win over the preset; a user's `natMode` alone
 * implies its egress (`NatMode.none()` is AWS-only). Contradictions fail: AWS-only egress with a
 * NAT, or internet egress without one.
 */
function resolveEgress(
  scope: IConstruct, props: NetworkInputProps, preset: PresetValues, propPrefix: string,
): { egress: EgressMode; natMode: NatMode } {
  if (props.egress !== undefined && !EGRESS_MODES.includes(props.egress)) {
    invalid(scope, `${propPrefix}egress`, props.egress, `must be an EgressMode value (${EGRESS_MODES.join(', ')})`);
  }
  if (props.natMode !== undefined && !(props.natMode instanceof NatMode)) {
    invalid(scope, `${propPrefix}natMode`, props.natMode, 'must be a NatMode (NatMode.gatewayPerAz(), singleGateway(), instance() or none())');
  }
  const userNat = props.natMode;
  const egress = props.egress
    ?? (userNat ? (userNat.hasEgress ? EgressMode.INTERNET_HTTPS : EgressMode.AWS_SERVICES_ONLY) : presetEgress(preset));

  if (egress === EgressMode.AWS_SERVICES_ONLY) {
    if (userNat?.hasEgress) {
      invalid(scope, `${propPrefix}natMode`, userNat,
        `contradicts ${props.egress !== undefined ? `${propPrefix}egress` : 'the preset\'s egress'} (${EgressMode.AWS_SERVICES_ONLY}): AWS-only egress has no NAT; use NatMode.none() or leave natMode out, or choose EgressMode.INTERNET_HTTPS`);
    }
    return { egress, natMode: NatMode.none() };
  }
  const natMode = userNat ?? preset.natMode;
  if (!natMode.hasEgress) {
    invalid(scope, userNat ? `${propPrefix}natMode` : 'preset.values.natMode', natMode,
      `contradicts ${props.egress !== undefined ? `${propPrefix}egress` : 'preset.values.egress'} (${EgressMode.INTERNET_HTTPS}): internet egress needs a NAT; choose NatMode.gatewayPerAz(), singleGateway() or instance(), or EgressMode.AWS_SERVICES_ONLY`);
  }
  return { egress, natMode };
}

/** The interface endpoints listed, checked, with `required` added, sorted. */
function resolveEndpoints(
  scope: IConstruct, value: InterfaceEndpointService[], prop: string, required: InterfaceEndpointService[],
): InterfaceEndpointService[] {
  if (!Array.isArray(value)) {
    invalid(scope, prop, value, `must be a list of InterfaceEndpointService values (${ENDPOINT_SERVICES.join(', ')})`);
  }
  for (const service of value) {
    if (!ENDPOINT_SERVICES.includes(service)) {
      invalid(scope, prop, service, `must hold only InterfaceEndpointService values (${ENDPOINT_SERVICES.join(', ')})`);
    }
  }
  const services = new Set<InterfaceEndpointService>(value);
  required.forEach((s) => services.add(s));
  return [...services].sort();
}

function checkRetention(scope: IConstruct, prop: string, value: logs.RetentionDays): void {
  if (Token.isUnresolved(value)) return; // a deploy-time value: CloudFormation checks it
  if (!RETENTION_DAYS.includes(value)) {
    invalid(scope, prop, value,
      `must be a logs.RetentionDays value: ${RETENTION_DAYS.filter((d) => d !== logs.RetentionDays.INFINITE).join(', ')} days, or ${logs.RetentionDays.INFINITE} (INFINITE: never expires)`);
  }
}
