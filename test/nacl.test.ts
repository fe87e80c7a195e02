import { App, CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EgressMode, NatMode, NetworkTier, Preset, ThreeTierPlatform, ThreeTierPlatformProps } from '../src';
import { aclEntries, AclEntry, naclDifferences, requiredFlows, securityGroupPlacement, zoneAcls, ZONES } from './support/nacl';
import { API_SOURCE, ENV, newStack } from './support/stacks';
import { refId, resourcesOfType, subnetsOf } from './support/template';
import { renderNaclRules, renderProdNaclRules } from '../scripts/lib/readme-tables';

jest.setTimeout(60_000);

/** A platform in its own stack; `domain` gives HTTPS on both load balancers. */
function build(preset: Preset, options: { domain?: boolean; props?: Partial<ThreeTierPlatformProps> } = {}) {
  const stack = new Stack(new App(), 'Nacl', { env: ENV });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'example.com' });
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset,
    app: { source: API_SOURCE, ...options.props?.app },
    ...options.props,
    web: options.domain ? { domainName: 'shop.example.com', hostedZone } : { allowHttpOnly: true },
  });
  return { stack, platform, template: Template.fromStack(stack) };
}

const CASES: Array<[string, () => ReturnType<typeof build>]> = [
  ['dev (NAT instance, rotation in the app subnets)', () => build(Preset.dev())],
  ['staging (one NAT gateway)', () => build(Preset.staging())],
  ['prod (AWS services only, endpoints, functions in the data subnets)', () => build(Preset.prod())],
  ['prod with a domain (HTTPS on both load balancers)', () => build(Preset.prod(), { domain: true })],
  ['prod with internet egress (a NAT gateway per AZ and the endpoints)', () => build(Preset.prod(), { props: { network: { egress: EgressMode.INTERNET_HTTPS } } })],
  ['dev with AWS-only egress', () => build(Preset.dev(), { props: { network: { natMode: NatMode.none() } } })],
  ['staging with app port 9090 and another address plan', () => build(Preset.staging(), {
    props: { app: { source: API_SOURCE, port: 9090 }, network: { cidr: '172.20.0.0/20' } },
  })],
];

const built = new Map<string, ReturnType<typeof build>>();
const get = (name: string, make: () => ReturnType<typeof build>) => {
  if (!built.has(name)) built.set(name, make());
  return built.get(name)!;
};

describe.each(CASES)('%s', (name, make) => {
  test('each subnet group has a network ACL of its own; no subnet keeps the default one', () => {
    const { template } = get(name, make);
    const acls = zoneAcls(template);
    expect([...acls.keys()].sort()).toEqual([...ZONES].sort());
    template.resourceCountIs('AWS::EC2::NetworkAcl', 4);
    template.resourceCountIs('AWS::EC2::SubnetNetworkAclAssociation', subnetsOf(template).length);
  });

  test('the network ACLs admit every security-group edge in both directions (with return traffic), and nothing more', () => {
    expect(naclDifferences(get(name, make).template)).toEqual([]);
  });

  test('the template holds exactly the entries the network tier reports (the README table)', () => {
    const { template, platform } = get(name, make);
    const acls = zoneAcls(template);
    const zoneOfAcl = new Map([...acls].map(([zone, acl]) => [acl, zone]));
    const fromTemplate = aclEntries(template.toJSON()).map((e) => [
      zoneOfAcl.get(e.acl), e.egress, e.ruleNumber, e.allow, e.protocol, e.cidr, e.ports?.join('-'),
    ].join(' ')).sort();
    const reported = platform.network.subnetTrafficRules.map((r) => [
      r.subnetGroup, r.egress, r.ruleNumber, r.allow, r.protocol === 'all' ? -1 : 6, r.cidr, r.fromPort === undefined ? undefined : `${r.fromPort}-${r.toPort}`,
    ].join(' ')).sort();
    expect(fromTemplate).toEqual(reported);
  });
});

describe('the check can fail', () => {
  const make = () => build(Preset.prod());
  const entryOf = (entries: AclEntry[], template: Template, zone: string, egress: boolean, ruleNumber: number) => {
    const acl = zoneAcls(template).get(zone as any)!;
    return entries.find((e) => e.acl === acl && e.egress === egress && e.ruleNumber === ruleNumber)!;
  };

  test('a missing rule (app subnets to the database port) is reported', () => {
    const { template } = get('dev (NAT instance, rotation in the app subnets)', () => build(Preset.dev()));
    const entries = aclEntries(template.toJSON());
    const dropped = entryOf(entries, template, 'App', true, 111);
    expect(dropped.ports).toEqual([3306, 3306]);
    expect(naclDifferences(template, entries.filter((e) => e !== dropped)))
      .toEqual(['App to Data: admits tcp nothing, the security groups need 3306']);
  });

  test('a missing return rule is reported', () => {
    const { template } = get('prod (AWS services only, endpoints, functions in the data subnets)', make);
    const entries = aclEntries(template.toJSON());
    const dropped = entryOf(entries, template, 'Data', true, 100);
    expect(naclDifferences(template, entries.filter((e) => e !== dropped)))
      .toEqual(['Data to App: admits tcp 443, the security groups need 443,1024-65535']);
  });

  test('an extra rule (SSH from the web subnets into the data subnets) is reported', () => {
    const { template } = get('prod (AWS services only, endpoints, functions in the data subnets)', make);
    const entries = aclEntries(template.toJSON());
    const data = zoneAcls(template).get('Data')!;
    const web = subnetsOf(template).find((s) => s.group === 'Web')!.cidr.replace(/\d+\/21$/, '0/19');
    const extra: AclEntry = { id: 'Extra', acl: data, ruleNumber: 90, egress: false, allow: true, protocol: 6, cidr: web, ports: [22, 22] };
    expect(naclDifferences(template, [...entries, extra]))
      .toEqual(['Data from Web: admits tcp 22, the security groups need nothing']);
  });

  test('a rule before the VPC deny that opens the return range to the whole VPC is reported', () => {
    const { template } = get('prod (AWS services only, endpoints, functions in the data subnets)', make);
    const entries = aclEntries(template.toJSON());
    const moved = entryOf(entries, template, 'Web', false, 300);
    expect(moved.cidr).toBe('0.0.0.0/0');
    const differences = naclDifferences(template, entries.map((e) => (e === moved ? { ...e, ruleNumber: 150 } : e)));
    expect(differences).toContain('Web from Data: admits tcp 1024-65535, the security groups need nothing');
  });

  test('an edge whose placement is unknown fails loudly instead of being skipped', () => {
    const { template } = get('prod (AWS services only, endpoints, functions in the data subnets)', make);
    const json = JSON.parse(JSON.stringify(template.toJSON()));
    const asg = Object.keys(json.Resources).find((id) => id.startsWith('PlatformWebAutoScalingGroup'))!;
    delete json.Resources[asg];
    expect(() => requiredFlows(Template.fromJSON(json))).toThrow(/security group PlatformWebInstanceSecurityGroup\w+ .* is used by no resource in a subnet/);
  });
});

test('the placement of the security groups follows the tiers (prod)', () => {
  const { template } = get('prod (AWS services only, endpoints, functions in the data subnets)', () => build(Preset.prod()));
  const placement = securityGroupPlacement(template);
  const where = (prefix: string) => [...placement.entries()].filter(([id]) => id.startsWith(prefix)).map(([, z]) => [...z].sort().join(','));
  expect(where('PlatformWebLoadBalancerSecurityGroup')).toEqual(['Public']);
  expect(where('PlatformWebInstanceSecurityGroup')).toEqual(['Web']);
  expect(where('PlatformAppLoadBalancerSecurityGroup')).toEqual(['App']);
  expect(where('PlatformAppInstanceSecurityGroup')).toEqual(['App']);
  expect(where('PlatformNetworkEndpointSecurityGroup')).toEqual(['App']);
  expect(where('PlatformDataSecurityGroup')).toEqual(['Data']);
  expect(where('PlatformDataRotationSecurityGroup')).toEqual(['Data']);
});

test('the README table renders every rule of the prod preset with a domain', () => {
  const { platform } = get('prod with a domain (HTTPS on both load balancers)', () => build(Preset.prod(), { domain: true }));
  const rules = platform.network.subnetTrafficRules;
  const table = renderProdNaclRules();
  expect(table).toBe(renderNaclRules(rules));
  expect(table.split('\n')).toHaveLength(2 + rules.length);
  expect(table).toContain('| data | in | 100 | allow | tcp 3306 | app subnets (10.0.64.0/19) |');
  expect(table).toContain('| app | in | 200 | deny | all | the VPC (10.0.0.0/16) |');
});

describe('restrictSubnetTraffic on a NetworkTier alone', () => {
  test('without it there are no network ACLs (the default one admits everything)', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network');
    Template.fromStack(stack).resourceCountIs('AWS::EC2::NetworkAcl', 0);
    expect(network.subnetTrafficRules).toEqual([]);
    expect(network.networkAcl('Data')).toBeUndefined();
  });

  test('its ports become the rules: the database port admitted from the app block only', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network', { natMode: NatMode.singleGateway() });
    network.restrictSubnetTraffic({ databasePort: 5432, appPort: 3000, appListenerPort: 8443, publicListenerPorts: [443] });
    const rules = network.subnetTrafficRules;
    const admitsFrom = (group: string, port: number) =>
      rules.filter((r) => r.subnetGroup === group && !r.egress && r.allow && r.fromPort === port && r.toPort === port);
    expect(admitsFrom('Data', 5432).map((r) => r.cidr)).toEqual(['10.0.64.0/19']);
    expect(admitsFrom('App', 8443).map((r) => r.cidr)).toEqual(['10.0.32.0/19']);
    expect(admitsFrom('App', 3000).map((r) => r.cidr)).toEqual(['10.0.64.0/19']);
    expect(admitsFrom('Public', 443).map((r) => r.cidr).sort()).toEqual(['0.0.0.0/0', '10.0.32.0/19', '10.0.64.0/19']);
    expect(admitsFrom('Public', 80)).toEqual([]);
    expect(network.networkAcl('Data')).toBeDefined();
    const template = Template.fromStack(stack);
    const dataAcl = refId(resourcesOfType(template, 'AWS::EC2::SubnetNetworkAclAssociation')
      .find((a) => subnetsOf(template).find((s) => s.id === refId(a.properties.SubnetId))!.group === 'Data')!.properties.NetworkAclId);
    expect(Template.fromStack(stack).toJSON().Resources[dataAcl!].Type).toBe('AWS::EC2::NetworkAcl');
  });

  test.each<[string, (n: NetworkTier, stack: Stack) => void, RegExp]>([
    ['a second call', (n) => {
      n.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80 });
      n.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80 });
    }, /restrictSubnetTraffic was already called on Stack\/Network/],
    ['a port from a CloudFormation parameter', (n, stack) => n.restrictSubnetTraffic({
      databasePort: new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber, appPort: 8080, appListenerPort: 80,
    }), /^databasePort \('token \{"Ref":"Port"\}'\) must be a literal number \(network ACL rules are written at synth time\) in Stack\/Network$/],
    ['port 0', (n) => n.restrictSubnetTraffic({ databasePort: 3306, appPort: 0, appListenerPort: 80 }), /^appPort \(0\) must be an integer from 1 to 65535 in Stack\/Network$/],
    ['no public listener', (n) => n.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80, publicListenerPorts: [] }),
      /^publicListenerPorts \(\[\]\) must list 1 to 10 ports in Stack\/Network$/],
  ])('%s fails', (_name, call, message) => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network');
    expect(() => call(network, stack)).toThrow(message);
  });
});
