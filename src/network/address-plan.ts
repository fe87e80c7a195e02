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

/** Parses an IPv4 CIDR; returns undefined when it is not one or the address is not the network address. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((n, o) => n * 256 + o, 0);
  // A network address has no bits set below its prefix.
  if (base % 2 ** (32 - prefix) !== 0) return undefined;
  return { base, prefix };
}

function formatIp(n: number): string {
  return [2 ** 24, 2 ** 16, 2 ** 8, 1].map((d) => Math.floor(n / d) % 256).join('.');
}

/** The subnet prefix length for a VPC prefix length. */
export function subnetPrefix(vpcPrefix: number): number {
  return vpcPrefix + TIER_BITS + AZ_BITS;
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
