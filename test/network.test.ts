import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { InterfaceEndpointService, NatMode, NetworkTier, NetworkTierProps } from '../src';
import { newStack, PRESETS, PresetName } from './support/stacks';
import { onlyResource, refId, resourcesOfType, SubnetInfo, subnetsOf } from './support/template';

const GROUPS = ['Public', 'Web', 'App', 'Data'];
const ALL_SERVICES = ['cloudformation', 'ec2messages', 'kms', 'logs', 'secretsmanager', 'ssm', 'ssmmessages'];
const NO_NAT_SERVICES = ['cloudformation', 'ec2messages', 'logs', 'secretsmanager', 'ssm', 'ssmmessages'];

const synthesized = new Map<string, { stack: Stack; network: NetworkTier; template: Template }>();

/** A network tier in its own stack; identical props share one synthesis (the suite stays fast). */
function synthNetwork(props: NetworkTierProps = {}) {
  const key = JSON.stringify(props, (k, v) => (k === 'preset' ? v.name : v));
  if (!synthesized.has(key)) {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network', props);
    synthesized.set(key, { stack, network, template: Template.fromStack(stack) });
  }
  return synthesized.get(key)!;
}

function interfaceServices(template: Template): string[] {
  return resourcesOfType(template, 'AWS::EC2::VPCEndpoint')
    .filter((e) => e.properties.VpcEndpointType === 'Interface')
    .map((e) => String(e.properties.ServiceName).replace('com.amazonaws.us-east-1.', ''))
    .sort();
}

const byGroup = (subnets: SubnetInfo[], group: string) => subnets.filter((s) => s.group === group);
const defaultRoutes = (s: SubnetInfo) => s.routes.filter((r) => r.DestinationCidrBlock === '0.0.0.0/0' || r.DestinationIpv6CidrBlock !== undefined);

describe('subnets', () => {
  test.each([2, 3])('4 subnet groups, one subnet per group in each of %i AZs', (maxAzs) => {
    const { template } = synthNetwork({ maxAzs });
    const subnets = subnetsOf(template);
    expect(subnets).toHaveLength(4 * maxAzs);
    const azs = ['dummy1a', 'dummy1b', 'dummy1c'].slice(0, maxAzs);
    for (const group of GROUPS) {
      expect(byGroup(subnets, group).map((s) => s.az)).toEqual(azs);
    }
    // Nothing in the public subnets gets a public IP unless it asks (only the NAT instance does).
    expect(byGroup(subnets, 'Public').map((s) => s.mapPublicIpOnLaunch)).toEqual(azs.map(() => false));
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/16' });
  });
});

describe('address plan', () => {
  const cidrs = (maxAzs: number, cidr?: string) => {
    const subnets = subnetsOf(synthNetwork({ maxAzs, cidr }).template);
    return Object.fromEntries(GROUPS.map((g) => [g, byGroup(subnets, g).map((s) => s.cidr)]));
  };
  const two = cidrs(2);
  const three = cidrs(3);

  test('a /16 gives each tier a fixed /19 block cut into /21 AZ slots', () => {
    expect(three).toEqual({
      Public: ['10.0.0.0/21', '10.0.8.0/21', '10.0.16.0/21'],
      Web: ['10.0.32.0/21', '10.0.40.0/21', '10.0.48.0/21'],
      App: ['10.0.64.0/21', '10.0.72.0/21', '10.0.80.0/21'],
      Data: ['10.0.96.0/21', '10.0.104.0/21', '10.0.112.0/21'],
    });
  });

  test.each(GROUPS)('%s subnets of AZ a and b keep their CIDRs when maxAzs grows from 2 to 3', (group) => {
    expect(two[group]).toHaveLength(2);
    expect(three[group].slice(0, 2)).toEqual(two[group]);
  });

  test('the plan scales with the VPC prefix (/20 gives /25 subnets)', () => {
    expect(cidrs(3, '10.20.0.0/20')).toEqual({
      Public: ['10.20.0.0/25', '10.20.0.128/25', '10.20.1.0/25'],
      Web: ['10.20.2.0/25', '10.20.2.128/25', '10.20.3.0/25'],
      App: ['10.20.4.0/25', '10.20.4.128/25', '10.20.5.0/25'],
      Data: ['10.20.6.0/25', '10.20.6.128/25', '10.20.7.0/25'],
    });
  });

  test('plannedSubnetCidr agrees with the synthesized subnets', () => {
    const { network, template } = synthNetwork({ maxAzs: 3 });
    const subnets = subnetsOf(template);
    for (const group of GROUPS) {
      byGroup(subnets, group).forEach((s, i) => expect(network.plannedSubnetCidr(group, i)).toBe(s.cidr));
    }
    expect(() => network.plannedSubnetCidr('Cache', 0)).toThrow(/tier \('Cache'\) must be one of Public, Web, App, Data/);
    expect(() => network.plannedSubnetCidr('Web', 3)).toThrow(/azIndex \(3\) must be an integer from 0 to 2/);
  });
});

describe('routes', () => {
  const modes: Array<[string, () => NatMode]> = [
    ['gatewayPerAz', () => NatMode.gatewayPerAz()],
    ['singleGateway', () => NatMode.singleGateway()],
    ['instance', () => NatMode.instance()],
    ['none', () => NatMode.none()],
  ];

  test.each(modes)('data subnets have no route to an internet gateway or NAT (NatMode.%s)', (_name, mode) => {
    const subnets = subnetsOf(synthNetwork({ natMode: mode(), maxAzs: 3 }).template);
    const data = byGroup(subnets, 'Data');
    expect(data).toHaveLength(3);
    for (const s of data) {
      expect(s.type).toBe('Isolated');
      expect(s.routes).toEqual([]);
      // Own route tables, not shared with a tier that has egress.
      expect(subnets.filter((o) => o.routeTableId === s.routeTableId)).toHaveLength(1);
    }
  });

  test.each(modes)('public subnets route 0.0.0.0/0 to the internet gateway (NatMode.%s)', (_name, mode) => {
    const { template } = synthNetwork({ natMode: mode() });
    const igw = onlyResource(template, 'AWS::EC2::InternetGateway').id;
    for (const s of byGroup(subnetsOf(template), 'Public')) {
      expect(defaultRoutes(s)).toEqual([expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', GatewayId: { Ref: igw } })]);
    }
  });

  test('NatMode.gatewayPerAz: web and app subnets route to the NAT gateway of their own AZ', () => {
    const { template } = synthNetwork({ natMode: NatMode.gatewayPerAz(), maxAzs: 3 });
    const subnets = subnetsOf(template);
    const natAz = new Map(resourcesOfType(template, 'AWS::EC2::NatGateway').map((n) => [
      n.id, subnets.find((s) => s.id === refId(n.properties.SubnetId))!,
    ]));
    expect([...natAz.values()].map((s) => s.group)).toEqual(['Public', 'Public', 'Public']);
    for (const s of [...byGroup(subnets, 'Web'), ...byGroup(subnets, 'App')]) {
      expect(s.type).toBe('Private');
      const routes = defaultRoutes(s);
      expect(routes).toHaveLength(1);
      expect(routes[0].GatewayId).toBeUndefined();
      expect(natAz.get(refId(routes[0].NatGatewayId)!)?.az).toBe(s.az);
    }
  });

  test('NatMode.singleGateway: web and app subnets all route to the one NAT gateway', () => {
    const { template } = synthNetwork({ natMode: NatMode.singleGateway(), maxAzs: 3 });
    const nat = onlyResource(template, 'AWS::EC2::NatGateway').id;
    for (const s of [...byGroup(subnetsOf(template), 'Web'), ...byGroup(subnetsOf(template), 'App')]) {
      expect(defaultRoutes(s)).toEqual([expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: { Ref: nat } })]);
    }
  });

  test('NatMode.instance: web and app subnets route to the NAT instance', () => {
    const { template } = synthNetwork({ natMode: NatMode.instance() });
    const instance = onlyResource(template, 'AWS::EC2::Instance').id;
    for (const s of [...byGroup(subnetsOf(template), 'Web'), ...byGroup(subnetsOf(template), 'App')]) {
      expect(defaultRoutes(s)).toEqual([expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', InstanceId: { Ref: instance } })]);
    }
  });

  test('NatMode.none: web and app subnets are isolated, without any route', () => {
    const { template } = synthNetwork({ natMode: NatMode.none() });
    for (const s of [...byGroup(subnetsOf(template), 'Web'), ...byGroup(subnetsOf(template), 'App')]) {
      expect(s.type).toBe('Isolated');
      expect(s.routes).toEqual([]);
    }
  });
});

describe('NAT', () => {
  test.each<[string, () => NatMode, number, number, number]>([
    ['gatewayPerAz', () => NatMode.gatewayPerAz(), 3, 3, 0],
    ['gatewayPerAz', () => NatMode.gatewayPerAz(), 2, 2, 0],
    ['singleGateway', () => NatMode.singleGateway(), 3, 1, 0],
    ['instance', () => NatMode.instance(), 3, 0, 1],
    ['none', () => NatMode.none(), 3, 0, 0],
  ])('NatMode.%s in %i AZs: %i NAT gateways, %i NAT instances', (_name, mode, maxAzs, gateways, instances) => {
    const { template } = synthNetwork({ natMode: mode(), maxAzs });
    template.resourceCountIs('AWS::EC2::NatGateway', gateways);
    template.resourceCountIs('AWS::EC2::EIP', gateways);
    template.resourceCountIs('AWS::EC2::Instance', instances);
  });

  test('NatMode.instance(): t3.nano by default, source/dest check off, in a public subnet', () => {
    const { template } = synthNetwork({ natMode: NatMode.instance() });
    const instance = onlyResource(template, 'AWS::EC2::Instance');
    expect(instance.properties).toMatchObject({ InstanceType: 't3.nano', SourceDestCheck: false });
    expect(instance.properties.NetworkInterfaces).toEqual([expect.objectContaining({ AssociatePublicIpAddress: true })]);
    const subnet = subnetsOf(template).find((s) => s.id === refId(instance.properties.NetworkInterfaces[0].SubnetId));
    expect(subnet?.group).toBe('Public');
  });

  test('NatMode.instance(type) uses the given type', () => {
    const { template } = synthNetwork({ natMode: NatMode.instance(ec2.InstanceType.of(ec2.InstanceClass.T3A, ec2.InstanceSize.MICRO)) });
    template.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't3a.micro' });
  });

  test('NatMode.none adds the endpoints instances need without NAT (not KMS)', () => {
    const { template, network } = synthNetwork({ natMode: NatMode.none() });
    expect(interfaceServices(template)).toEqual(NO_NAT_SERVICES);
    expect(network.interfaceEndpointServices).toEqual(NO_NAT_SERVICES);
  });

  test('NatMode.none keeps the endpoints asked for on top of its own', () => {
    const { template } = synthNetwork({ natMode: NatMode.none(), interfaceEndpoints: [InterfaceEndpointService.KMS] });
    expect(interfaceServices(template)).toEqual(ALL_SERVICES);
  });
});

describe('VPC endpoints', () => {
  test.each(['dev', 'staging', 'prod'] as PresetName[])('%s: one S3 gateway endpoint on the web, app and data route tables', (preset) => {
    const { template } = synthNetwork({ preset: PRESETS[preset]() });
    const gateways = resourcesOfType(template, 'AWS::EC2::VPCEndpoint').filter((e) => e.properties.VpcEndpointType === 'Gateway');
    expect(gateways).toHaveLength(1);
    expect(JSON.stringify(gateways[0].properties.ServiceName)).toMatch(/\.s3"/);
    const subnets = subnetsOf(template);
    const expected = subnets.filter((s) => s.group !== 'Public').map((s) => s.routeTableId).sort();
    expect(gateways[0].properties.RouteTableIds.map(refId).sort()).toEqual(expected);
  });

  test.each<[PresetName, string[]]>([
    ['dev', []],
    ['staging', []],
    ['prod', ALL_SERVICES],
  ])('%s preset: interface endpoints %j', (preset, services) => {
    const { template } = synthNetwork({ preset: PRESETS[preset]() });
    expect(interfaceServices(template)).toEqual(services);
  });

  test('the interfaceEndpoints prop wins over the preset', () => {
    const { template } = synthNetwork({
      preset: PRESETS.prod(),
      interfaceEndpoints: [InterfaceEndpointService.SSM, InterfaceEndpointService.KMS],
    });
    expect(interfaceServices(template)).toEqual(['kms', 'ssm']);
  });

  test('interface endpoints sit in the app subnets, with private DNS and a closed security group', () => {
    const { template, network } = synthNetwork({ preset: PRESETS.prod() });
    const app = byGroup(subnetsOf(template), 'App').map((s) => s.id).sort();
    const endpoints = resourcesOfType(template, 'AWS::EC2::VPCEndpoint').filter((e) => e.properties.VpcEndpointType === 'Interface');
    expect(endpoints).toHaveLength(7);
    for (const e of endpoints) {
      expect(e.properties.PrivateDnsEnabled).toBe(true);
      expect(e.properties.SubnetIds.map(refId).sort()).toEqual(app);
      for (const sg of e.properties.SecurityGroupIds.map(refId)) {
        expect(template.toJSON().Resources[sg].Properties.SecurityGroupIngress).toBeUndefined();
      }
    }
    expect(network.endpoint(InterfaceEndpointService.SSM)).toBeDefined();
  });
});

describe('flow logs', () => {
  test.each<[PresetName, number]>([
    ['dev', 7],
    ['staging', 30],
    ['prod', 365],
  ])('%s: all traffic to a KMS-encrypted log group kept %i days', (preset, days) => {
    const { template } = synthNetwork({ preset: PRESETS[preset]() });
    const group = onlyResource(template, 'AWS::Logs::LogGroup');
    const key = onlyResource(template, 'AWS::KMS::Key');
    expect(group.properties).toMatchObject({ RetentionInDays: days, KmsKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] } });
    expect(group.resource.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: group.id },
    });
  });

  test('the flowLogRetention prop wins over the preset', () => {
    const { template } = synthNetwork({ preset: PRESETS.prod(), flowLogRetention: logs.RetentionDays.TWO_WEEKS });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  test('the key rotates and lets CloudWatch Logs of this region use it for log groups of this account only', () => {
    const { template } = synthNetwork();
    const key = onlyResource(template, 'AWS::KMS::Key');
    expect(key.properties.EnableKeyRotation).toBe(true);
    expect(key.resource.DeletionPolicy).toBe('Retain');
    expect(key.properties.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Action: expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']),
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
          },
        },
      },
    }));
  });
});

test('the default security group is restricted', () => {
  const { template } = synthNetwork();
  const vpc = onlyResource(template, 'AWS::EC2::VPC').id;
  template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
    DefaultSecurityGroupId: { 'Fn::GetAtt': [vpc, 'DefaultSecurityGroup'] },
  });
});

test('allowEgressFrom opens the interface endpoints and the NAT instance on 443 to a peer', () => {
  const stack = newStack();
  const network = new NetworkTier(stack, 'Network', { natMode: NatMode.instance(), interfaceEndpoints: [InterfaceEndpointService.SSM] });
  const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc: network.vpc });
  network.allowEgressFrom(peer);
  const template = Template.fromStack(stack);
  const peerId = stack.getLogicalId(peer.node.defaultChild as ec2.CfnSecurityGroup);
  const ingress = resourcesOfType(template, 'AWS::EC2::SecurityGroupIngress').map((r) => r.properties);
  expect(ingress).toHaveLength(2);
  for (const rule of ingress) {
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [peerId, 'GroupId'] } });
  }
});

describe('AZs and the environment', () => {
  test('an environment-agnostic stack takes 2 AZs', () => {
    const stack = newStack({ env: null });
    new NetworkTier(stack, 'Network', { maxAzs: 2 });
    expect(subnetsOf(Template.fromStack(stack))).toHaveLength(8);
  });

  test('an environment-agnostic stack cannot hold 3 AZs', () => {
    const stack = newStack({ env: null });
    expect(() => new NetworkTier(stack, 'Network', { maxAzs: 3 }))
      .toThrow(/maxAzs \(3\) needs a stack with an explicit account and region: this stack offers 2 AZs/);
  });

  test('the prod preset (3 AZs) needs an explicit environment', () => {
    const stack = newStack({ env: null });
    expect(() => new NetworkTier(stack, 'Network', { preset: PRESETS.prod() })).toThrow(/maxAzs \(3\)/);
  });

  test('the default preset is dev: 2 AZs and a NAT instance', () => {
    const { template, network } = synthNetwork();
    expect(network.maxAzs).toBe(2);
    expect(network.natMode.mode).toBe('instance');
    template.resourceCountIs('AWS::EC2::Instance', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'dummy1b' });
    template.resourceCountIs('AWS::EC2::Subnet', 8);
    template.hasResourceProperties('AWS::EC2::VPC', Match.objectLike({ EnableDnsHostnames: true, EnableDnsSupport: true }));
  });
});
