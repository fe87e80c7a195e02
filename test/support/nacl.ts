import { Template } from 'aws-cdk-lib/assertions';
import { refId, resourcesOfType, subnetsOf } from './template';

/**
 * Network ACLs against the security-group graph of a synthesized template.
 *
 * Every security-group edge is placed on the subnet groups of the resources that use the two
 * groups (load balancers, Auto Scaling Groups, functions, endpoints, the database, the NAT
 * instance). From the edges follow the flows each subnet group's network ACL must admit: the
 * request on its port where it leaves one subnet and enters another, and the response on the
 * ephemeral ports 1024-65535 the other way (network ACLs are stateless). Then every network ACL is
 * evaluated, rule by rule, for each peer (each tier block, the unused blocks of the VPC, and an
 * address outside the VPC) and must admit exactly the union of what the flows need: no less (a
 * connection would break) and no more (beyond the return traffic, which is part of the flows).
 */

export type Zone = 'Public' | 'Web' | 'App' | 'Data';
export const ZONES: Zone[] = ['Public', 'Web', 'App', 'Data'];
/** An address outside the VPC (TEST-NET-2): the internet, or S3 through the gateway endpoint. */
export const OUTSIDE = '198.51.100.0/24';
export const EPHEMERAL: Range = [1024, 65535];
const TCP = 6;

export type Range = [number, number];

/** A security-group edge at the level of logical IDs. */
export interface SgEdge {
  /** A security group's logical ID, or `internet`. */
  readonly from: string;
  /** A security group's logical ID, or `anywhere`. */
  readonly to: string;
  readonly protocol: string;
  /** The port range, or undefined for all traffic. */
  readonly ports?: Range;
}

/** Collects the logical IDs referred to (`Ref`, `Fn::GetAtt`) anywhere in a value. */
function refsIn(value: any, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((v) => refsIn(v, out));
  } else if (value && typeof value === 'object') {
    const id = refId(value);
    if (id) out.push(id);
    else Object.values(value).forEach((v) => refsIn(v, out));
  }
  return out;
}

/** Each security group's subnet groups: where the resources that use it sit. */
export function securityGroupPlacement(template: Template): Map<string, Set<Zone>> {
  const resources = template.toJSON().Resources;
  const zoneOf = new Map(subnetsOf(template).map((s) => [s.id, s.group as Zone]));
  const placement = new Map<string, Set<Zone>>();
  const place = (groups: any, subnets: any) => {
    const zones = refsIn(subnets).map((id) => zoneOf.get(id)).filter((z): z is Zone => z !== undefined);
    for (const sg of refsIn(groups).filter((id) => resources[id]?.Type === 'AWS::EC2::SecurityGroup')) {
      const set = placement.get(sg) ?? new Set<Zone>();
      zones.forEach((z) => set.add(z));
      placement.set(sg, set);
    }
  };
  for (const [, r] of Object.entries<any>(resources)) {
    const p = r.Properties ?? {};
    switch (r.Type) {
      case 'AWS::AutoScaling::AutoScalingGroup': {
        // On-demand groups name their launch template; spot groups name it in their mixed instances policy.
        const spec = p.LaunchTemplate ?? p.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
        const lt = resources[refId(spec?.LaunchTemplateId)!];
        place(lt?.Properties.LaunchTemplateData, p.VPCZoneIdentifier);
        break;
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': place(p.SecurityGroups, p.Subnets); break;
      case 'AWS::Lambda::Function': if (p.VpcConfig) place(p.VpcConfig.SecurityGroupIds, p.VpcConfig.SubnetIds); break;
      case 'AWS::Serverless::Application': place(p.Parameters?.vpcSecurityGroupIds, p.Parameters?.vpcSubnetIds); break;
      case 'AWS::EC2::VPCEndpoint': if (p.VpcEndpointType === 'Interface') place(p.SecurityGroupIds, p.SubnetIds); break;
      case 'AWS::RDS::DBInstance': place(p.VPCSecurityGroups, resources[refId(p.DBSubnetGroupName)!]?.Properties.SubnetIds); break;
      case 'AWS::EC2::Instance': place([p.SecurityGroupIds, (p.NetworkInterfaces ?? []).map((n: any) => n.GroupSet)],
        [p.SubnetId, (p.NetworkInterfaces ?? []).map((n: any) => n.SubnetId)]); break;
    }
  }
  return placement;
}

/** Every security-group edge, by logical ID (0.0.0.0/0 peers are `internet` and `anywhere`). */
export function securityGroupEdges(template: Template): SgEdge[] {
  const resources = template.toJSON().Resources;
  const edges = new Map<string, SgEdge>();
  const ports = (rule: any): Range | undefined => (String(rule.IpProtocol) === '-1' ? undefined : [rule.FromPort, rule.ToPort]);
  const add = (from: string | undefined, to: string | undefined, rule: any) => {
    if (!from || !to) return;
    const edge: SgEdge = { from, to, protocol: String(rule.IpProtocol), ports: ports(rule) };
    edges.set(JSON.stringify(edge), edge);
  };
  const peer = (rule: any, side: 'Source' | 'Destination'): string | undefined => {
    const sg = refId(rule[`${side}SecurityGroupId`]);
    if (sg) return sg;
    const cidr = rule.CidrIp ?? rule.CidrIpv6;
    if (cidr === '255.255.255.255/32') return undefined; // aws-cdk-lib's "no egress" placeholder
    if (cidr === '0.0.0.0/0') return side === 'Source' ? 'internet' : 'anywhere';
    throw new Error(`unexpected security group peer ${JSON.stringify(rule)}`);
  };
  for (const [id, r] of Object.entries<any>(resources)) {
    if (r.Type === 'AWS::EC2::SecurityGroup') {
      for (const rule of r.Properties.SecurityGroupIngress ?? []) add(peer(rule, 'Source'), id, rule);
      for (const rule of r.Properties.SecurityGroupEgress ?? []) add(id, peer(rule, 'Destination'), rule);
    } else if (r.Type === 'AWS::EC2::SecurityGroupIngress') {
      add(peer(r.Properties, 'Source'), refId(r.Properties.GroupId), r.Properties);
    } else if (r.Type === 'AWS::EC2::SecurityGroupEgress') {
      add(refId(r.Properties.GroupId), peer(r.Properties, 'Destination'), r.Properties);
    }
  }
  return [...edges.values()];
}

/** The flows each network ACL must admit, by `zone|in/out|peer` (peer: a zone or `outside`). */
export type Flows = Map<string, Range[]>;
export const flowKey = (zone: Zone, egress: boolean, peer: Zone | 'outside' | string) => `${zone}|${egress ? 'out' : 'in'}|${peer}`;

/**
 * The flows the security-group edges need. Two kinds of edges stand for traffic that leaves the
 * VPC rather than for the node they name:
 * - an edge to `anywhere` (or to the NAT instance, which forwards it) is traffic to outside the VPC:
 *   through NAT when there is one (NAT gateways or the NAT instance in the public subnets), and to
 *   S3 through the gateway endpoint either way. It needs nothing inside the VPC besides NAT.
 * - the NAT instance's own "all traffic" egress is the forwarding of what the instances send it.
 */
export function requiredFlows(template: Template): Flows {
  const resources = template.toJSON().Resources;
  const placement = securityGroupPlacement(template);
  const edges = securityGroupEdges(template);
  const natInstanceSgs = new Set(resourcesOfType(template, 'AWS::EC2::Instance')
    .flatMap((i) => refsIn([i.properties.SecurityGroupIds, (i.properties.NetworkInterfaces ?? []).map((n: any) => n.GroupSet)])));
  const natZones = new Set<Zone>([
    ...resourcesOfType(template, 'AWS::EC2::NatGateway').flatMap((n) => refsIn(n.properties.SubnetId)),
  ].map((id) => subnetsOf(template).find((s) => s.id === id)!.group as Zone));
  natInstanceSgs.forEach((sg) => placement.get(sg)?.forEach((z) => natZones.add(z)));

  const flows: Flows = new Map();
  const add = (zone: Zone, egress: boolean, peer: string, range: Range) => {
    const key = flowKey(zone, egress, peer);
    flows.set(key, [...(flows.get(key) ?? []), range]);
  };
  const zones = (sg: string) => {
    const z = placement.get(sg);
    if (!z || z.size === 0) throw new Error(`security group ${sg} (${resources[sg]?.Properties?.GroupDescription}) is used by no resource in a subnet`);
    return [...z];
  };
  const forwarded = edges.filter((e) => natInstanceSgs.has(e.to)).map((e) => e.ports!);

  for (const edge of edges) {
    if (edge.protocol !== 'tcp' && edge.protocol !== '6' && !(natInstanceSgs.has(edge.from) && edge.ports === undefined)) {
      throw new Error(`unexpected protocol in ${JSON.stringify(edge)}`);
    }
    const ranges = edge.ports ? [edge.ports] : forwarded;
    for (const range of ranges) {
      if (edge.from === 'internet') {
        for (const zy of zones(edge.to)) {
          add(zy, false, 'outside', range);
          add(zy, true, 'outside', EPHEMERAL);
        }
      } else if (edge.to === 'anywhere' || natInstanceSgs.has(edge.to)) {
        for (const zx of zones(edge.from)) {
          add(zx, true, 'outside', range);
          add(zx, false, 'outside', EPHEMERAL);
          for (const nat of natZones) {
            if (nat === zx) continue;
            add(nat, false, zx, range);
            add(nat, true, 'outside', range);
            add(nat, false, 'outside', EPHEMERAL);
            add(nat, true, zx, EPHEMERAL);
          }
        }
      } else {
        for (const zx of zones(edge.from)) {
          for (const zy of zones(edge.to)) {
            // Within a zone the connection crosses subnets when it crosses AZs (load balancers,
            // endpoints and functions are in every AZ).
            add(zx, true, zy, range);
            add(zy, false, zx, range);
            add(zy, true, zx, EPHEMERAL);
            add(zx, false, zy, EPHEMERAL);
          }
        }
      }
    }
  }
  return flows;
}

/** Sorted, merged, disjoint ranges. */
export function normalize(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

function parseCidr(cidr: string): [number, number] {
  const [ip, len] = cidr.split('/');
  const base = ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  return [base, base + 2 ** (32 - Number(len)) - 1];
}
const formatIp = (n: number) => [2 ** 24, 2 ** 16, 2 ** 8, 1].map((d) => Math.floor(n / d) % 256).join('.');

/** A network ACL entry of the template. */
export interface AclEntry {
  readonly id: string;
  readonly acl: string;
  readonly ruleNumber: number;
  readonly egress: boolean;
  readonly allow: boolean;
  readonly protocol: number;
  readonly cidr: string;
  readonly ports?: Range;
}

export function aclEntries(template: any): AclEntry[] {
  return Object.entries<any>(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::EC2::NetworkAclEntry')
    .map(([id, r]) => ({
      id,
      acl: refId(r.Properties.NetworkAclId)!,
      ruleNumber: r.Properties.RuleNumber,
      egress: r.Properties.Egress === true,
      allow: r.Properties.RuleAction === 'allow',
      protocol: r.Properties.Protocol,
      cidr: r.Properties.CidrBlock,
      ports: r.Properties.PortRange ? [r.Properties.PortRange.From, r.Properties.PortRange.To] : undefined,
    }));
}

/**
 * The ports a network ACL admits for a protocol, from or to a peer CIDR: entries in rule-number
 * order, the first that matches a port decides, the rest is denied. A rule CIDR that only partly
 * covers the peer would make the answer differ within the peer: that is an error here.
 */
export function admitted(entries: AclEntry[], acl: string, egress: boolean, peer: string, protocol = TCP): Range[] {
  const [lo, hi] = parseCidr(peer);
  let undecided: Range[] = [[0, 65535]];
  const allowed: Range[] = [];
  for (const e of entries.filter((x) => x.acl === acl && x.egress === egress).sort((a, b) => a.ruleNumber - b.ruleNumber)) {
    if (e.protocol !== -1 && e.protocol !== protocol) continue;
    const [elo, ehi] = parseCidr(e.cidr);
    if (ehi < lo || elo > hi) continue;
    if (!(elo <= lo && ehi >= hi)) throw new Error(`rule ${e.ruleNumber} (${e.cidr}) covers only part of ${peer}`);
    const [from, to] = e.ports ?? [0, 65535];
    const next: Range[] = [];
    for (const [a, b] of undecided) {
      const x = Math.max(a, from);
      const y = Math.min(b, to);
      if (x > y) {
        next.push([a, b]);
        continue;
      }
      if (e.allow) allowed.push([x, y]);
      if (a < x) next.push([a, x - 1]);
      if (y < b) next.push([y + 1, b]);
    }
    undecided = next;
  }
  return normalize(allowed);
}

/** The network ACL of each zone; throws unless each zone's subnets share one ACL of their own. */
export function zoneAcls(template: Template): Map<Zone, string> {
  const associations = resourcesOfType(template, 'AWS::EC2::SubnetNetworkAclAssociation');
  const result = new Map<Zone, string>();
  for (const s of subnetsOf(template)) {
    const acls = associations.filter((a) => refId(a.properties.SubnetId) === s.id).map((a) => refId(a.properties.NetworkAclId)!);
    if (acls.length !== 1) throw new Error(`subnet ${s.id} (${s.group}) has ${acls.length} network ACL associations`);
    const zone = s.group as Zone;
    if (result.has(zone) && result.get(zone) !== acls[0]) throw new Error(`the ${zone} subnets have different network ACLs`);
    result.set(zone, acls[0]);
  }
  if (new Set(result.values()).size !== result.size) throw new Error('two subnet groups share a network ACL');
  return result;
}

/** The peers each ACL is evaluated for: the four tier blocks, the four unused blocks, outside. */
export function peers(template: Template): Map<string, string> {
  const vpc = resourcesOfType(template, 'AWS::EC2::VPC')[0].properties.CidrBlock as string;
  const [base] = parseCidr(vpc);
  const prefix = Number(vpc.split('/')[1]) + 3;
  const size = 2 ** (32 - prefix);
  const result = new Map<string, string>();
  for (let slot = 0; slot < 8; slot++) {
    const block = `${formatIp(base + slot * size)}/${prefix}`;
    const zone = subnetsOf(template).find((s) => {
      const [lo] = parseCidr(s.cidr);
      return lo >= base + slot * size && lo < base + (slot + 1) * size;
    })?.group;
    result.set(zone ?? `unused block ${block}`, block);
  }
  result.set('outside', OUTSIDE);
  return result;
}

const show = (ranges: Range[]) => (ranges.length === 0 ? 'nothing' : ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(','));

/**
 * Compares what each network ACL admits with what the security-group edges need: one line per
 * difference (empty when they agree exactly), and any admitted non-TCP traffic.
 */
export function naclDifferences(template: Template, entries: AclEntry[] = aclEntries(template.toJSON())): string[] {
  const flows = requiredFlows(template);
  const acls = zoneAcls(template);
  const differences: string[] = [];
  const used = new Set<string>();
  for (const zone of ZONES) {
    const acl = acls.get(zone)!;
    for (const egress of [false, true]) {
      for (const [peer, cidr] of peers(template)) {
        const key = flowKey(zone, egress, peer);
        used.add(key);
        const needed = normalize(flows.get(key) ?? []);
        const got = admitted(entries, acl, egress, cidr);
        const where = `${zone} ${egress ? 'to' : 'from'} ${peer}`;
        if (show(got) !== show(needed)) differences.push(`${where}: admits tcp ${show(got)}, the security groups need ${show(needed)}`);
        for (const protocol of [17, 1]) {
          const other = admitted(entries, acl, egress, cidr, protocol);
          if (other.length > 0) differences.push(`${where}: admits protocol ${protocol} ${show(other)}`);
        }
      }
    }
  }
  for (const key of flows.keys()) if (!used.has(key)) differences.push(`a flow no ACL was checked for: ${key}`);
  return differences;
}
