/**
 * The security-group graph of a synthesized template: who may reach whom, on which port.
 */

/** One allowed connection. `ingress`/`egress` tell which side's rule allows it. */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly ingress: boolean;
  readonly egress: boolean;
}

const NODE_NAMES: Array<[RegExp, string | ((m: RegExpExecArray) => string)]> = [
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

function nodeName(logicalId: string): string {
  for (const [re, name] of NODE_NAMES) {
    const m = re.exec(logicalId);
    if (m) return typeof name === 'string' ? name : name(m);
  }
  return logicalId;
}

function ref(value: any): string | undefined {
  if (value && typeof value === 'object') {
    if (value['Fn::GetAtt']) return value['Fn::GetAtt'][0];
    if (value.Ref) return value.Ref;
  }
  return undefined;
}

function portOf(rule: any): string {
  const proto = String(rule.IpProtocol);
  if (proto === '-1') return 'all';
  const from = rule.FromPort;
  const to = rule.ToPort;
  return from === to ? `${proto}/${from}` : `${proto}/${from}-${to}`;
}

function peer(rule: any, vpcCidrs: Set<string>, side: 'Source' | 'Destination'): string | undefined {
  const sg = ref(rule[`${side}SecurityGroupId`]);
  if (sg) return nodeName(sg);
  if (rule.DestinationPrefixListId) return 'prefix list';
  const cidr = rule.CidrIp ?? rule.CidrIpv6;
  if (cidr === '255.255.255.255/32') return undefined; // aws-cdk-lib's "disallow all egress" placeholder
  if (cidr === '0.0.0.0/0' || cidr === '::/0') return side === 'Source' ? 'internet' : 'anywhere';
  if (vpcCidrs.has(cidr)) return 'VPC';
  return typeof cidr === 'string' ? cidr : JSON.stringify(cidr);
}

/** Derives the graph from a template, merging ingress and egress rules of the same connection. */
export function deriveGraph(template: any): Edge[] {
  const resources: Record<string, any> = template.Resources ?? {};
  const vpcCidrs = new Set<string>(Object.values(resources)
    .filter((r) => r.Type === 'AWS::EC2::VPC').map((r) => r.Properties.CidrBlock));
  const edges = new Map<string, { from: string; to: string; port: string; ingress: boolean; egress: boolean }>();
  const add = (from: string, to: string, port: string, side: 'ingress' | 'egress') => {
    const k = `${from}|${to}|${port}`;
    const e = edges.get(k) ?? { from, to, port, ingress: false, egress: false };
    e[side] = true;
    edges.set(k, e);
  };
  const allowAllOutbound = new Set<string>();
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::EC2::SecurityGroup') continue;
    for (const rule of r.Properties.SecurityGroupIngress ?? []) {
      const from = peer(rule, vpcCidrs, 'Source');
      if (from) add(from, nodeName(id), portOf(rule), 'ingress');
    }
    for (const rule of r.Properties.SecurityGroupEgress ?? []) {
      const to = peer(rule, vpcCidrs, 'Destination');
      if (to) add(nodeName(id), to, portOf(rule), 'egress');
      if (to === 'anywhere' && portOf(rule) === 'all') allowAllOutbound.add(nodeName(id));
    }
  }
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::EC2::SecurityGroupIngress') {
      const to = ref(r.Properties.GroupId);
      const from = peer(r.Properties, vpcCidrs, 'Source');
      if (to && from) add(from, nodeName(to), portOf(r.Properties), 'ingress');
    }
    if (r.Type === 'AWS::EC2::SecurityGroupEgress') {
      const from = ref(r.Properties.GroupId);
      const to = peer(r.Properties, vpcCidrs, 'Destination');
      if (from && to) add(nodeName(from), to, portOf(r.Properties), 'egress');
    }
  }
  // A source that allows all outbound traffic needs no egress rule for an SG-to-SG connection.
  for (const e of edges.values()) {
    if (allowAllOutbound.has(e.from)) e.egress = true;
  }
  return [...edges.values()].sort((a, b) => formatEdge(a).localeCompare(formatEdge(b)));
}

/** One line per edge: `from -> to port [ingress+egress]`. */
export function formatEdge(e: Edge): string {
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
export function intendedGraph(f: GraphFeatures): Edge[] {
  const both = { ingress: true, egress: true };
  const edges: Edge[] = [
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
export function renderGraph(edges: Edge[]): string {
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
