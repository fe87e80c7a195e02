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

/** Readable names of the stack's security groups, from their logical IDs. */
const NODE_NAMES: Array<[RegExp, string]> = [
  [/WebLoadBalancerSecurityGroup/, 'public ALB'],
  [/WebInstanceSecurityGroup/, 'web instances'],
  [/AppLoadBalancerSecurityGroup/, 'internal ALB'],
  [/AppInstanceSecurityGroup/, 'app instances'],
  [/DataRotationSecurityGroup/, 'rotation function'],
  [/DataAppUserSecurityGroup/, 'app-user function'],
  [/DataSecurityGroup/, 'database'],
  [/NetworkEndpointSecurityGroup/, 'VPC endpoints'],
  [/DataSecretsManagerEndpointSecurityGroup/, 'Secrets Manager endpoint'],
  [/NatSecurityGroup|NatInstance/, 'NAT instance'],
];

/** A short readable name for a security group of the template, e.g. `public ALB`, `database`. */
export function nodeName(logicalId: string): string {
  return NODE_NAMES.find(([re]) => re.test(logicalId))?.[1] ?? logicalId;
}

/** The readable name of each security group of the template, by logical ID. */
export function groupLabels(template: any): Map<string, string> {
  return new Map(Object.entries<any>(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::EC2::SecurityGroup')
    .map(([id]) => [id, nodeName(id)]));
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

/** One allowed connection between named nodes; `ingress`/`egress` tell which side's rule allows it. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly ingress: boolean;
  readonly egress: boolean;
}

/**
 * The template's graph between named nodes (`internet`, `public ALB`, `VPC`, ...), the ingress and
 * egress rules of one connection merged into one edge: derived from {@link intendedEdges}.
 */
export function deriveGraph(template: any): GraphEdge[] {
  const vpcCidrs = new Set<string>(Object.values<any>(template.Resources ?? {})
    .filter((r) => r.Type === 'AWS::EC2::VPC').map((r) => r.Properties.CidrBlock));
  const node = (endpoint: string, side: 'source' | 'destination'): string => {
    if (endpoint.startsWith('sg:')) return nodeName(endpoint.slice(3));
    if (endpoint.startsWith('pl:')) return 'prefix list';
    const cidr = endpoint.slice('cidr:'.length);
    if (cidr === '0.0.0.0/0') return side === 'source' ? 'internet' : 'anywhere';
    return vpcCidrs.has(cidr) ? 'VPC' : cidr;
  };
  const port = (e: Edge) => (e.protocol === '-1' ? 'all' : `${e.protocol}/${portText(e)}`);
  const edges = new Map<string, { from: string; to: string; port: string; ingress: boolean; egress: boolean }>();
  for (const e of intendedEdges(template)) {
    const from = node(e.source, 'source');
    const to = node(e.destination, 'destination');
    const key = `${from}|${to}|${port(e)}`;
    const edge = edges.get(key) ?? { from, to, port: port(e), ingress: false, egress: false };
    edge[e.direction] = true;
    edges.set(key, edge);
  }
  // A source that allows all outbound traffic needs no egress rule for an SG-to-SG connection.
  const allowAllOutbound = new Set([...edges.values()].filter((e) => e.egress && e.to === 'anywhere' && e.port === 'all').map((e) => e.from));
  for (const e of edges.values()) {
    if (allowAllOutbound.has(e.from)) e.egress = true;
  }
  return [...edges.values()].sort((a, b) => formatEdge(a).localeCompare(formatEdge(b)));
}

/** One line per edge: `from -> to port [ingress+egress]`. */
export function formatEdge(e: GraphEdge): string {
  const sides = [e.ingress ? 'ingress' : '', e.egress ? 'egress' : ''].filter(Boolean).join('+');
  return `${e.from} -> ${e.to} ${e.port} [${sides}]`;
}

/** What decides the shape of the intended graph. */
export interface GraphFeatures {
  /** The public listener is HTTPS (443) besides the HTTP redirect (80). */
  readonly https: boolean;
  /** The internal listener is HTTPS (443) rather than HTTP (80). */
  readonly internalTls: boolean;
  /** The network tier has interface endpoints (the rotation function uses them too). */
  readonly endpoints: boolean;
  /** The NAT is an instance (NatMode.instance()). */
  readonly natInstance: boolean;
}

/**
 * The intended graph: internet → public ALB → web → internal ALB → app → database, the rotation
 * and app-user functions → database, and egress limited to HTTPS (through NAT or the endpoints).
 */
export function intendedGraph(f: GraphFeatures): GraphEdge[] {
  const both = { ingress: true, egress: true };
  const edges: GraphEdge[] = [
    { from: 'internet', to: 'public ALB', port: 'tcp/80', ingress: true, egress: false },
    ...(f.https ? [{ from: 'internet', to: 'public ALB', port: 'tcp/443', ingress: true, egress: false }] : []),
    { from: 'public ALB', to: 'web instances', port: 'tcp/80', ...both },
    { from: 'web instances', to: 'internal ALB', port: f.internalTls ? 'tcp/443' : 'tcp/80', ...both },
    { from: 'internal ALB', to: 'app instances', port: 'tcp/8080', ...both },
    { from: 'app instances', to: 'database', port: 'tcp/3306', ...both },
    { from: 'rotation function', to: 'database', port: 'tcp/3306', ...both },
    { from: 'app-user function', to: 'database', port: 'tcp/3306', ...both },
    { from: 'web instances', to: 'anywhere', port: 'tcp/443', ingress: false, egress: true },
    { from: 'app instances', to: 'anywhere', port: 'tcp/443', ingress: false, egress: true },
    ...(f.endpoints
      ? [
        { from: 'web instances', to: 'VPC endpoints', port: 'tcp/443', ...both },
        { from: 'app instances', to: 'VPC endpoints', port: 'tcp/443', ...both },
        { from: 'rotation function', to: 'VPC endpoints', port: 'tcp/443', ...both },
        { from: 'app-user function', to: 'VPC endpoints', port: 'tcp/443', ...both },
      ]
      : [
        { from: 'rotation function', to: 'anywhere', port: 'tcp/443', ingress: false, egress: true },
        { from: 'app-user function', to: 'anywhere', port: 'tcp/443', ingress: false, egress: true },
      ]),
    ...(f.natInstance
      ? [
        { from: 'web instances', to: 'NAT instance', port: 'tcp/443', ...both },
        { from: 'app instances', to: 'NAT instance', port: 'tcp/443', ...both },
        { from: 'rotation function', to: 'NAT instance', port: 'tcp/443', ...both },
        { from: 'app-user function', to: 'NAT instance', port: 'tcp/443', ...both },
        { from: 'NAT instance', to: 'anywhere', port: 'all', ingress: false, egress: true },
      ]
      : []),
  ];
  return edges.sort((a, b) => formatEdge(a).localeCompare(formatEdge(b)));
}

const mermaidId = (name: string) => name.replace(/[^A-Za-z0-9]/g, '_');

/** README table and Mermaid diagram of a graph. */
export function renderGraph(edges: GraphEdge[]): string {
  const table = [
    '| From | To | Port | Rules |',
    '| --- | --- | --- | --- |',
    ...edges.map((e) => `| ${e.from} | ${e.to} | ${e.port} | ${[e.ingress ? 'ingress on destination' : '', e.egress ? 'egress on source' : ''].filter(Boolean).join(', ')} |`),
  ];
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
  const mermaid = [
    '```mermaid',
    'flowchart LR',
    ...nodes.map((n) => `  ${mermaidId(n)}["${n}"]`),
    ...edges.map((e) => `  ${mermaidId(e.from)} -->|${e.port}| ${mermaidId(e.to)}`),
    '```',
  ];
  return [...table, '', ...mermaid].join('\n');
}
