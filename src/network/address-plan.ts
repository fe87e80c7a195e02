/**
 * The fixed address plan of the VPC.
 *
 * The VPC CIDR (prefix /P) is cut into 8 tier blocks of /P+3; each tier owns one block for good
 * (public 0, web 1, app 2, data 3; 4 to 7 stay free for tiers added later). Each tier block is cut
 * into 4 AZ slots of /P+5; the subnet of a tier in the N-th AZ always takes slot N. Raising `maxAzs`
 * or adding a tier therefore never moves an existing subnet (which CloudFormation would replace).
 */
export const TIER_SLOTS: Record<string, number> = {
  Public: 0,
  Web: 1,
  App: 2,
  Data: 3,
};

/** Bits added to the VPC prefix for a tier block (8 blocks). */
export const TIER_BITS = 3;
/** Bits added to a tier block's prefix for an AZ slot (4 slots). */
export const AZ_BITS = 2;
/** Smallest and largest VPC prefix lengths the plan supports (subnets from /21 down to /28). */
export const MIN_VPC_PREFIX = 16;
export const MAX_VPC_PREFIX = 23;
/** Largest AZ count the plan has room for. */
export const MAX_AZ_SLOTS = 2 ** AZ_BITS;

/** A decimal octet (0 to 255) written canonically: no leading zeros. */
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CIDR = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}/(3[0-2]|[12]?[0-9])$`);

/**
 * Parses an IPv4 CIDR written canonically (no leading zeros, which some parsers read as octal);
 * returns undefined when it is not one or the address is not the network address.
 */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = CIDR.exec(cidr);
  if (!m) return undefined;
  const base = m.slice(1, 5).map(Number).reduce((n, o) => n * 256 + o, 0);
  const prefix = Number(m[5]);
  // A network address has no bits set below its prefix.
  if (base % 2 ** (32 - prefix) !== 0) return undefined;
  return { base, prefix };
}

/** The private IPv4 ranges of RFC 1918, the only ranges a VPC of this library may use. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** Whether a parsed CIDR lies entirely inside one of the RFC 1918 ranges. */
export function isPrivate(parsed: { base: number; prefix: number }): boolean {
  return PRIVATE_RANGES.some((range) => {
    const r = parseCidr(range)!;
    return parsed.prefix >= r.prefix && Math.floor(parsed.base / 2 ** (32 - r.prefix)) === r.base / 2 ** (32 - r.prefix);
  });
}

function formatIp(n: number): string {
  return [2 ** 24, 2 ** 16, 2 ** 8, 1].map((d) => Math.floor(n / d) % 256).join('.');
}

/** The subnet prefix length for a VPC prefix length. */
export function subnetPrefix(vpcPrefix: number): number {
  return vpcPrefix + TIER_BITS + AZ_BITS;
}

/**
 * The CIDR of a tier's whole block (all its AZ slots, used or not), for a VPC CIDR: what the
 * network ACLs name as the tier's subnets.
 */
export function tierBlockCidr(vpcCidr: string, tier: string): string {
  const parsed = parseCidr(vpcCidr);
  if (!parsed) throw new Error(`'${vpcCidr}' is not an IPv4 network CIDR`);
  const slot = TIER_SLOTS[tier];
  if (slot === undefined) throw new Error(`unknown tier '${tier}' (known: ${Object.keys(TIER_SLOTS).join(', ')})`);
  const tierSize = 2 ** (32 - parsed.prefix - TIER_BITS);
  return `${formatIp(parsed.base + slot * tierSize)}/${parsed.prefix + TIER_BITS}`;
}

/**
 * The CIDR of a tier's subnet in the AZ with the given index (0-based), for a VPC CIDR.
 */
export function subnetCidr(vpcCidr: string, tier: string, azIndex: number): string {
  const parsed = parseCidr(vpcCidr);
  if (!parsed) throw new Error(`'${vpcCidr}' is not an IPv4 network CIDR`);
  const slot = TIER_SLOTS[tier];
  if (slot === undefined) throw new Error(`unknown tier '${tier}' (known: ${Object.keys(TIER_SLOTS).join(', ')})`);
  if (azIndex < 0 || azIndex >= MAX_AZ_SLOTS) throw new Error(`AZ index ${azIndex} is outside 0..${MAX_AZ_SLOTS - 1}`);
  const tierSize = 2 ** (32 - parsed.prefix - TIER_BITS);
  const azSize = tierSize / MAX_AZ_SLOTS;
  return `${formatIp(parsed.base + slot * tierSize + azIndex * azSize)}/${subnetPrefix(parsed.prefix)}`;
}
