import type { SubnetTrafficRule } from './options/subnet-traffic-options';
/**
 * The network ACL rules of the four subnet groups, derived from the traffic graph of the tiers.
 *
 * Network ACLs are stateless, so each connection needs a rule on both subnets it crosses, in both
 * directions: the request on its port, the response on the ephemeral ports 1024-65535 (what load
 * balancers, NAT gateways, Lambda and Linux use as source ports). Peers are whole tier blocks of the
 * address plan, so one rule covers a tier in every AZ, including AZs added later.
 *
 * Each NACL lists its rules inside the VPC first (100-199), then denies everything else from and to
 * the VPC (200), and only then allows what crosses the VPC boundary (300-399): return traffic from
 * the internet cannot be confused with traffic from another tier. Rule numbers are fixed per rule,
 * so a changed port updates an entry in place instead of renumbering (and replacing) the others.
 */

/** The subnet groups, in the order of the address plan. */
export const SUBNET_GROUPS = ['Public', 'Web', 'App', 'Data'] as const;
export type SubnetGroup = typeof SUBNET_GROUPS[number];

/** The ephemeral port range responses go to. */
export const EPHEMERAL_PORTS: [number, number] = [1024, 65535];

/** What the rules are derived from. */
export interface SubnetTrafficPlanInput {
  /** The VPC CIDR. */
  readonly vpcCidr: string;
  /** The block CIDR of each subnet group. */
  readonly blocks: Record<SubnetGroup, string>;
  /** Whether NAT (in the public subnets) forwards HTTPS from the web and app subnets. */
  readonly nat: boolean;
  /** Whether there are interface endpoints (in the app subnets). */
  readonly endpoints: boolean;
  readonly publicListenerPorts: number[];
  readonly webPort: number;
  readonly appListenerPort: number;
  readonly appPort: number;
  readonly databasePort: number;
  /** Functions in the data subnets reach the database (across AZs) and the interface endpoints. */
  readonly dataSubnetFunctions: boolean;
}

/** One planned network ACL entry: the public `SubnetTrafficRule`, with its subnet group typed. */
export type PlannedRule = SubnetTrafficRule & { readonly subnetGroup: SubnetGroup };

const ANYWHERE = '0.0.0.0/0';

/** Adds rules to the plan, for one input. */
class RulePlan {
  public readonly rules: PlannedRule[] = [];
  public readonly b: Record<SubnetGroup, string>;
  /** Where HTTPS crosses the VPC boundary, in words. */
  public readonly boundary: string;

  constructor(public readonly input: SubnetTrafficPlanInput) {
    this.b = input.blocks;
    this.boundary = input.nat ? 'through NAT or the S3 gateway endpoint' : 'through the S3 gateway endpoint (S3 addresses cannot be named in a network ACL)';
  }

  public add(subnetGroup: SubnetGroup, direction: 'in' | 'out', ruleNumber: number, cidr: string, ports: number | [number, number], purpose: string): void {
    const [fromPort, toPort] = typeof ports === 'number' ? [ports, ports] : ports;
    this.rules.push({ subnetGroup, ruleNumber, egress: direction === 'out', allow: true, protocol: 'tcp', fromPort, toPort, cidr, peer: this.peerName(cidr), purpose });
  }

  public denyVpc(subnetGroup: SubnetGroup): void {
    for (const egress of [false, true]) {
      this.rules.push({
        subnetGroup,
        ruleNumber: 200,
        egress,
        allow: false,
        protocol: 'all',
        cidr: this.input.vpcCidr,
        peer: 'the VPC',
        purpose: egress ? 'Nothing else to the VPC' : 'Nothing else from the VPC',
      });
    }
  }

  private peerName(cidr: string): string {
    if (cidr === ANYWHERE) return 'anywhere';
    if (cidr === this.input.vpcCidr) return 'the VPC';
    const group = SUBNET_GROUPS.find((g) => this.b[g] === cidr);
    return group ? `${group.toLowerCase()} subnets` : cidr;
  }
}

/** Plans every entry of the four network ACLs. */
export function planSubnetTraffic(input: SubnetTrafficPlanInput): PlannedRule[] {
  const plan = new RulePlan(input);
  planPublic(plan);
  planWeb(plan);
  planApp(plan);
  planData(plan);
  return plan.rules.sort((x, y) => SUBNET_GROUPS.indexOf(x.subnetGroup) - SUBNET_GROUPS.indexOf(y.subnetGroup)
    || Number(x.egress) - Number(y.egress) || x.ruleNumber - y.ruleNumber);
}

const eph = EPHEMERAL_PORTS;

/** Public subnets: the public load balancer and NAT. */
function planPublic(plan: RulePlan): void {
  const { b, input } = plan;
  const add = plan.add.bind(plan);
  const nat = input.nat;
  if (nat) {
    add('Public', 'in', 100, b.Web, 443, 'HTTPS from the web instances, forwarded by NAT');
    add('Public', 'in', 101, b.App, 443, 'HTTPS from the app subnets, forwarded by NAT');
  }
  add('Public', 'in', 110, b.Web, eph, 'Responses of the web instances to the public load balancer');
  plan.denyVpc('Public');
  input.publicListenerPorts.forEach((port, i) => add('Public', 'in', 300 + i, ANYWHERE, port, `Public load balancer listener (${port})`));
  if (nat) add('Public', 'in', 310, ANYWHERE, eph, 'Responses from the internet to NAT');
  add('Public', 'out', 100, b.Web, input.webPort, 'Public load balancer to the web instances');
  if (nat) {
    add('Public', 'out', 110, b.Web, eph, 'NAT: responses to the web instances');
    add('Public', 'out', 111, b.App, eph, 'NAT: responses to the app subnets');
  }
  add('Public', 'out', 300, ANYWHERE, eph, 'Public load balancer responses to clients');
  if (nat) add('Public', 'out', 310, ANYWHERE, 443, 'NAT: HTTPS to the internet');
}

/** Web subnets: the NGINX instances. */
function planWeb(plan: RulePlan): void {
  const { b, input, boundary } = plan;
  const add = plan.add.bind(plan);
  const endpoints = input.endpoints;
  const L = input.appListenerPort;
  add('Web', 'in', 100, b.Public, input.webPort, 'Public load balancer to the web instances');
  add('Web', 'in', 110, b.App, eph, 'Responses of the internal load balancer' + (endpoints ? ' and the interface endpoints' : ''));
  plan.denyVpc('Web');
  add('Web', 'in', 300, ANYWHERE, eph, `Responses to HTTPS ${boundary}`);
  add('Web', 'out', 100, b.Public, eph, 'Responses to the public load balancer');
  add('Web', 'out', 110, b.App, L, `Internal load balancer listener (${L})` + (endpoints && L === 443 ? ' and the interface endpoints' : ''));
  if (endpoints && L !== 443) add('Web', 'out', 111, b.App, 443, 'Interface endpoints');
  add('Web', 'out', 300, ANYWHERE, 443, `HTTPS ${boundary}`);
}

/** App subnets: the internal load balancer, the API instances, the interface endpoints. */
function planApp(plan: RulePlan): void {
  const { b, input, boundary } = plan;
  const add = plan.add.bind(plan);
  const { endpoints, appPort } = input;
  const fns = input.dataSubnetFunctions;
  const L = input.appListenerPort;
  add('App', 'in', 100, b.Web, L, `Web instances to the internal load balancer (${L})` + (endpoints && L === 443 ? ' and the interface endpoints' : ''));
  add('App', 'in', 110, b.App, appPort, `Internal load balancer to the API instances (${appPort}), across AZs`);
  if (endpoints) {
    if (L !== 443) add('App', 'in', 120, b.Web, 443, 'Web instances to the interface endpoints');
    add('App', 'in', 121, b.App, 443, 'API instances to the interface endpoints, across AZs');
    if (fns) add('App', 'in', 122, b.Data, 443, 'Functions in the data subnets to the interface endpoints');
  }
  add('App', 'in', 130, b.App, eph, 'Responses within the app subnets (API instances' + (endpoints ? ', interface endpoints)' : ')'));
  add('App', 'in', 131, b.Data, eph, 'Database responses');
  plan.denyVpc('App');
  add('App', 'in', 300, ANYWHERE, eph, `Responses to HTTPS ${boundary}`);
  add('App', 'out', 100, b.Web, eph, 'Responses to the web instances');
  add('App', 'out', 110, b.App, appPort, `Internal load balancer to the API instances (${appPort}), across AZs`);
  add('App', 'out', 111, b.Data, input.databasePort, `To the database (${input.databasePort})`);
  if (endpoints) add('App', 'out', 120, b.App, 443, 'API instances to the interface endpoints, across AZs');
  add('App', 'out', 130, b.App, eph, 'Responses within the app subnets');
  if (endpoints && fns) add('App', 'out', 131, b.Data, eph, 'Interface endpoint responses to functions in the data subnets');
  add('App', 'out', 300, ANYWHERE, 443, `HTTPS ${boundary}`);
}

/**
 * Data subnets: the database (and functions such as the rotation function). Nothing crosses the
 * VPC boundary: the default rule denies all the rest.
 */
function planData(plan: RulePlan): void {
  const { b, input } = plan;
  const add = plan.add.bind(plan);
  const { endpoints, databasePort } = input;
  const fns = input.dataSubnetFunctions;
  add('Data', 'in', 100, b.App, databasePort, `App subnets to the database (${databasePort})`);
  if (fns) add('Data', 'in', 101, b.Data, databasePort, `Functions in the data subnets to the database (${databasePort}), across AZs`);
  if (endpoints && fns) add('Data', 'in', 110, b.App, eph, 'Interface endpoint responses to functions');
  if (fns) add('Data', 'in', 111, b.Data, eph, 'Database responses to functions, across AZs');
  add('Data', 'out', 100, b.App, eph, 'Database responses to the app subnets');
  if (fns) {
    add('Data', 'out', 101, b.Data, eph, 'Database responses to functions, across AZs');
    add('Data', 'out', 110, b.Data, databasePort, `Functions to the database (${databasePort}), across AZs`);
  }
  if (endpoints && fns) add('Data', 'out', 120, b.App, 443, 'Functions to the interface endpoints');
}
