import { DescribeSecurityGroupsCommand, EC2Client, IpPermission } from '@aws-sdk/client-ec2';

/**
 * Security-group graphs: what a template intends and what is deployed, as comparable edges.
 *
 * An endpoint is `sg:<LogicalId>` for a security group of the stack, `sg:<sg-id>` for any other
 * group, `cidr:<range>` or `pl:<prefix-list>`.
 */
export interface Edge {
  readonly direction: 'ingress' | 'egress';
  /** Where traffic comes from. */
  readonly source: string;
  /** Where it goes. */
  readonly destination: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
}

export function edgeKey(e: Edge): string {
  return `${e.direction} ${e.source} -> ${e.destination} ${e.protocol} ${portText(e)}`;
}

export function portText(e: Pick<Edge, 'protocol' | 'fromPort' | 'toPort'>): string {
  if (e.protocol === '-1') return 'all';
  if (e.fromPort === e.toPort) return String(e.fromPort);
  return `${e.fromPort}-${e.toPort}`;
}

/** The rule CDK writes into a group that may send nothing (`allowAllOutbound: false` with no rule). */
function isDisallowAll(rule: any): boolean {
  return rule.CidrIp === '255.255.255.255/32' && String(rule.IpProtocol) === 'icmp';
}

/**
 * The intended graph: every rule of the template's AWS::EC2::SecurityGroup resources (inline
 * ingress and egress) and of its AWS::EC2::SecurityGroupIngress / SecurityGroupEgress resources.
 */
export function intendedEdges(template: any): Edge[] {
  const resources: Record<string, any> = template.Resources ?? {};
  const edges: Edge[] = [];
  const endpointOf = (v: any): string => {
    const ga = v?.['Fn::GetAtt'];
    if (ga && resources[ga[0]]?.Type === 'AWS::EC2::SecurityGroup' && ga[1] === 'GroupId') return `sg:${ga[0]}`;
    if (v?.Ref && resources[v.Ref]?.Type === 'AWS::EC2::SecurityGroup') return `sg:${v.Ref}`;
    if (typeof v === 'string') return v.startsWith('sg-') ? `sg:${v}` : v.startsWith('pl-') ? `pl:${v}` : `cidr:${v}`;
    throw new Error(`cannot resolve security group reference ${JSON.stringify(v)}`);
  };
  const port = (v: any, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v === 'number' || typeof v === 'string') return Number(v);
    const ga = v['Fn::GetAtt'];
    if (ga && resources[ga[0]]?.Type === 'AWS::RDS::DBInstance' && ga[1] === 'Endpoint.Port') {
      return Number(resources[ga[0]].Properties?.Port ?? 3306);
    }
    throw new Error(`cannot resolve port ${JSON.stringify(v)}`);
  };
  const rule = (direction: Edge['direction'], group: string, r: any, peer: string) => {
    const protocol = String(r.IpProtocol);
    edges.push({
      direction,
      source: direction === 'ingress' ? peer : group,
      destination: direction === 'ingress' ? group : peer,
      protocol,
      fromPort: protocol === '-1' ? -1 : port(r.FromPort, -1),
      toPort: protocol === '-1' ? -1 : port(r.ToPort, -1),
    });
  };
  for (const [id, res] of Object.entries<any>(resources)) {
    const p = res.Properties ?? {};
    if (res.Type === 'AWS::EC2::SecurityGroup') {
      for (const r of p.SecurityGroupIngress ?? []) {
        if (r.CidrIpv6) continue;
        rule('ingress', `sg:${id}`, r, r.CidrIp !== undefined ? `cidr:${r.CidrIp}` : endpointOf(r.SourceSecurityGroupId ?? r.SourcePrefixListId));
      }
      for (const r of p.SecurityGroupEgress ?? []) {
        if (r.CidrIpv6 || isDisallowAll(r)) continue;
        rule('egress', `sg:${id}`, r, r.CidrIp !== undefined ? `cidr:${r.CidrIp}` : endpointOf(r.DestinationSecurityGroupId ?? r.DestinationPrefixListId));
      }
    } else if (res.Type === 'AWS::EC2::SecurityGroupIngress') {
      if (p.CidrIpv6) continue;
      rule('ingress', endpointOf(p.GroupId), p, p.CidrIp !== undefined ? `cidr:${p.CidrIp}` : endpointOf(p.SourceSecurityGroupId ?? p.SourcePrefixListId));
    } else if (res.Type === 'AWS::EC2::SecurityGroupEgress') {
      if (p.CidrIpv6) continue;
      rule('egress', endpointOf(p.GroupId), p, p.CidrIp !== undefined ? `cidr:${p.CidrIp}` : endpointOf(p.DestinationSecurityGroupId ?? p.DestinationPrefixListId));
    }
  }
  return dedupe(edges);
}

/**
 * The deployed graph of the given security groups (physical IDs), with the stack's groups named by
 * their logical IDs (`physicalToLogical`).
 */
export async function deployedEdges(ec2: EC2Client, groupIds: string[], physicalToLogical: Map<string, string>): Promise<Edge[]> {
  if (groupIds.length === 0) return [];
  const name = (id: string) => `sg:${physicalToLogical.get(id) ?? id}`;
  const res = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: groupIds }));
  const edges: Edge[] = [];
  for (const g of res.SecurityGroups ?? []) {
    const self = name(g.GroupId!);
    const add = (direction: Edge['direction'], perm: IpPermission) => {
      const protocol = String(perm.IpProtocol);
      const base = {
        direction,
        protocol,
        fromPort: protocol === '-1' ? -1 : perm.FromPort ?? -1,
        toPort: protocol === '-1' ? -1 : perm.ToPort ?? -1,
      };
      const peers = [
        ...(perm.IpRanges ?? []).map((r) => `cidr:${r.CidrIp}`),
        ...(perm.UserIdGroupPairs ?? []).map((p) => name(p.GroupId!)),
        ...(perm.PrefixListIds ?? []).map((p) => `pl:${p.PrefixListId}`),
      ];
      for (const peer of peers) {
        edges.push({ ...base, source: direction === 'ingress' ? peer : self, destination: direction === 'ingress' ? self : peer });
      }
    };
    (g.IpPermissions ?? []).forEach((p) => add('ingress', p));
    (g.IpPermissionsEgress ?? []).forEach((p) => add('egress', p));
  }
  return dedupe(edges);
}

function dedupe(edges: Edge[]): Edge[] {
  const seen = new Map<string, Edge>();
  for (const e of edges) seen.set(edgeKey(e), e);
  return [...seen.values()].sort((a, b) => edgeKey(a).localeCompare(edgeKey(b)));
}

/** Edges in one list and not the other. */
export function compareEdges(intended: Edge[], deployed: Edge[]): { missing: Edge[]; unexpected: Edge[] } {
  const want = new Set(intended.map(edgeKey));
  const have = new Set(deployed.map(edgeKey));
  return {
    missing: intended.filter((e) => !have.has(edgeKey(e))),
    unexpected: deployed.filter((e) => !want.has(edgeKey(e))),
  };
}

/**
 * A short readable name for a security group of the template, from its description or path,
 * e.g. `web ALB`, `web instances`, `app ALB`, `app instances`, `database`, `NAT instance`.
 */
export function groupLabels(template: any): Map<string, string> {
  const labels = new Map<string, string>();
  for (const [id, r] of Object.entries<any>(template.Resources ?? {})) {
    if (r.Type !== 'AWS::EC2::SecurityGroup') continue;
    const path: string = r.Metadata?.['aws:cdk:path'] ?? '';
    const where = `${path} ${id}`;
    const label =
      /Web\/LoadBalancerSecurityGroup|WebLoadBalancerSecurityGroup/.test(where) ? 'web ALB (public)'
        : /Web\/InstanceSecurityGroup|WebInstanceSecurityGroup/.test(where) ? 'web instances (NGINX)'
          : /App\/LoadBalancerSecurityGroup|AppLoadBalancerSecurityGroup/.test(where) ? 'app ALB (internal)'
            : /App\/InstanceSecurityGroup|AppInstanceSecurityGroup/.test(where) ? 'app instances (API)'
              : /Data\/RotationSecurityGroup|DataRotationSecurityGroup/.test(where) ? 'credential rotation'
                : /Data\/AppUserSecurityGroup|DataAppUserSecurityGroup/.test(where) ? 'app-user function'
                  : /Data\/SecurityGroup\/|DataSecurityGroup/.test(where) ? 'database'
                    : /NatSecurityGroup/.test(where) ? 'NAT instance'
                      : /Endpoint/.test(where) ? `${(/([A-Za-z0-9]+)Endpoint/.exec(path || id)?.[1] ?? 'interface')} endpoint`
                        : String(r.Properties?.GroupDescription ?? id);
    labels.set(id, label);
  }
  return labels;
}

/** An endpoint as people read it. */
export function endpointLabel(endpoint: string, labels: Map<string, string>): string {
  if (endpoint.startsWith('sg:')) return labels.get(endpoint.slice(3)) ?? endpoint.slice(3);
  if (endpoint === 'cidr:0.0.0.0/0') return 'internet (0.0.0.0/0)';
  return endpoint.replace(/^(cidr|pl):/, '');
}

export function edgeText(e: Edge, labels: Map<string, string>): string {
  const proto = e.protocol === '-1' ? 'all traffic' : `${e.protocol.toUpperCase()} ${portText(e)}`;
  return `${endpointLabel(e.source, labels)} -> ${endpointLabel(e.destination, labels)}  ${proto}`;
}
