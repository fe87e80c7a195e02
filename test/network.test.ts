import * as path from 'path';
import { CfnParameter, Lazy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { AppSource, EgressMode, InterfaceEndpointService, NatMode, NetworkTier, NetworkTierProps, Preset, S3EndpointAccess, ThreeTierPlatform } from '../src';
import { API_SOURCE, newStack, PRESETS, PresetName, synthPlatform } from './support/stacks';
import { onlyResource, refId, resourcesOfType, SubnetInfo, subnetsOf } from './support/template';
import { egressCost, HOURS_PER_MONTH, US_EAST_1_PRICES } from '../scripts/lib/readme-tables';

const GROUPS = ['Public', 'Web', 'App', 'Data'];
const ALL_SERVICES = ['cloudformation', 'ec2', 'ec2messages', 'kms', 'logs', 'monitoring', 'secretsmanager', 'ssm', 'ssmmessages'];
const NO_NAT_SERVICES = ['cloudformation', 'ec2', 'ec2messages', 'logs', 'monitoring', 'secretsmanager', 'ssm', 'ssmmessages'];

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
  ])('NatMode.%s (%p) in %i AZs: %i NAT gateways, %i NAT instances', (_name, mode, maxAzs, gateways, instances) => {
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
      egress: EgressMode.INTERNET_HTTPS,
      interfaceEndpoints: [InterfaceEndpointService.SSM, InterfaceEndpointService.KMS],
    });
    expect(interfaceServices(template)).toEqual(['kms', 'ssm']);
  });

  test('with AWS-only egress (the prod preset) the endpoints instances need are added to the ones asked for', () => {
    const { template } = synthNetwork({ preset: PRESETS.prod(), interfaceEndpoints: [InterfaceEndpointService.KMS] });
    expect(interfaceServices(template)).toEqual(ALL_SERVICES);
  });

  test('interface endpoints sit in the app subnets, with private DNS and a closed security group', () => {
    const { template, network } = synthNetwork({ preset: PRESETS.prod() });
    const app = byGroup(subnetsOf(template), 'App').map((s) => s.id).sort();
    const endpoints = resourcesOfType(template, 'AWS::EC2::VPCEndpoint').filter((e) => e.properties.VpcEndpointType === 'Interface');
    expect(endpoints).toHaveLength(ALL_SERVICES.length);
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
    expect(network.natMode?.mode).toBe('instance');
    template.resourceCountIs('AWS::EC2::Instance', 1);
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'dummy1b' });
    template.resourceCountIs('AWS::EC2::Subnet', 8);
    template.hasResourceProperties('AWS::EC2::VPC', Match.objectLike({ EnableDnsHostnames: true, EnableDnsSupport: true }));
  });
});

describe('egress', () => {
  const natGateways = (template: Template) => resourcesOfType(template, 'AWS::EC2::NatGateway').length;
  const natInstances = (template: Template) => resourcesOfType(template, 'AWS::EC2::Instance').length;
  const webAndApp = (template: Template) => subnetsOf(template).filter((s) => s.group === 'Web' || s.group === 'App');

  test('prod preset: AWS services only, no NAT, web and app subnets without a route out, every endpoint', () => {
    const { template, network } = synthNetwork({ preset: PRESETS.prod() });
    expect(network.egress).toBe(EgressMode.AWS_SERVICES_ONLY);
    expect(network.natMode?.mode).toBe('none');
    expect(natGateways(template) + natInstances(template)).toBe(0);
    template.resourceCountIs('AWS::EC2::EIP', 0);
    for (const s of webAndApp(template)) expect(s.routes).toEqual([]);
    expect(interfaceServices(template)).toEqual(ALL_SERVICES);
  });

  test.each<[PresetName, string, number, number]>([
    ['dev', 'instance', 0, 1],
    ['staging', 'single-gateway', 1, 0],
  ])('%s preset: HTTPS to the internet through NAT (%s)', (preset, mode, gateways, instances) => {
    const { template, network } = synthNetwork({ preset: PRESETS[preset]() });
    expect(network.egress).toBe(EgressMode.INTERNET_HTTPS);
    expect(network.natMode?.mode).toBe(mode);
    expect([natGateways(template), natInstances(template)]).toEqual([gateways, instances]);
    for (const s of webAndApp(template)) expect(defaultRoutes(s)).toHaveLength(1);
  });

  test('egress INTERNET_HTTPS on the prod preset uses its NAT: a gateway per AZ', () => {
    const { template, network } = synthNetwork({ preset: PRESETS.prod(), egress: EgressMode.INTERNET_HTTPS });
    expect(network.natMode?.mode).toBe('gateway-per-az');
    expect(natGateways(template)).toBe(3);
  });

  test('egress AWS_SERVICES_ONLY on the dev preset drops its NAT instance and adds the endpoints instances need', () => {
    const { template, network } = synthNetwork({ egress: EgressMode.AWS_SERVICES_ONLY });
    expect(network.natMode?.mode).toBe('none');
    expect(natInstances(template)).toBe(0);
    expect(interfaceServices(template)).toEqual(NO_NAT_SERVICES);
  });

  test('NatMode.none() alone means AWS services only; another NAT alone means internet egress', () => {
    expect(synthNetwork({ natMode: NatMode.none() }).network.egress).toBe(EgressMode.AWS_SERVICES_ONLY);
    expect(synthNetwork({ preset: PRESETS.prod(), natMode: NatMode.singleGateway() }).network.egress).toBe(EgressMode.INTERNET_HTTPS);
  });

  test.each<[string, NetworkTierProps, RegExp]>([
    ['AWS-only egress with a NAT', { egress: EgressMode.AWS_SERVICES_ONLY, natMode: NatMode.gatewayPerAz() },
      /^natMode \(NatMode\.gatewayPerAz\(\)\) contradicts egress \(aws-services-only\): AWS-only egress has no NAT.* in Stack\/Network$/],
    ['internet egress without NAT', { egress: EgressMode.INTERNET_HTTPS, natMode: NatMode.none() },
      /^natMode \(NatMode\.none\(\)\) contradicts egress \(internet-https\): internet egress needs a NAT.* in Stack\/Network$/],
    ['internet egress from a custom preset without NAT', { preset: Preset.custom({ ...Preset.dev().values, natMode: NatMode.none(), egress: EgressMode.INTERNET_HTTPS }) },
      /^preset\.values\.natMode \(NatMode\.none\(\)\) contradicts preset\.values\.egress \(internet-https\)/],
    ['an unknown egress (plain JavaScript)', { egress: 'internet' as EgressMode }, /^egress \('internet'\) must be an EgressMode value \(internet-https, aws-services-only\)/],
    ['a natMode that is not a NatMode (plain JavaScript)', { natMode: 'none' as unknown as NatMode }, /^natMode \('none'\) must be a NatMode/],
  ])('%s fails', (_name, props, message) => {
    expect(() => new NetworkTier(newStack(), 'Network', props)).toThrow(message);
  });

  test('in the platform the error names the platform props', () => {
    expect(() => synthPlatform('dev', { network: { egress: EgressMode.AWS_SERVICES_ONLY, natMode: NatMode.singleGateway() } }))
      .toThrow(/^network\.natMode \(NatMode\.singleGateway\(\)\) contradicts network\.egress \(aws-services-only\).* in Stack\/Platform$/);
  });

  test('monthly cost of each preset\'s egress (README table), from the stated us-east-1 prices', () => {
    const p = US_EAST_1_PRICES;
    const dev = egressCost(Preset.dev().values);
    expect(dev.natMonthly).toBeCloseTo((p.instancePerHour['t3.nano'] + p.publicIpv4PerHour) * HOURS_PER_MONTH);
    expect(dev.endpointsMonthly).toBe(0);
    const staging = egressCost(Preset.staging().values);
    expect(staging.natMonthly).toBeCloseTo((p.natGatewayPerHour + p.publicIpv4PerHour) * HOURS_PER_MONTH);
    const prod = egressCost(Preset.prod().values);
    expect(prod.egress).toBe(EgressMode.AWS_SERVICES_ONLY);
    expect(prod.natMonthly).toBe(0);
    expect(prod.endpointsMonthly).toBeCloseTo(ALL_SERVICES.length * 3 * p.interfaceEndpointPerAzHour * HOURS_PER_MONTH);
    // The same endpoints plus a NAT gateway per AZ with internet egress.
    const prodInternet = egressCost(Preset.prod().values, EgressMode.INTERNET_HTTPS);
    expect(prodInternet.monthly - prod.monthly).toBeCloseTo(3 * (p.natGatewayPerHour + p.publicIpv4PerHour) * HOURS_PER_MONTH);
    // AWS-only dev needs the 8 endpoints of AWS-only egress in 2 AZs.
    expect(egressCost(Preset.dev().values, EgressMode.AWS_SERVICES_ONLY).endpointsMonthly)
      .toBeCloseTo(8 * 2 * p.interfaceEndpointPerAzHour * HOURS_PER_MONTH);
  });
});

describe('S3 gateway endpoint policy', () => {
  /** The statements of the S3 gateway endpoint's policy, with the partition and account rendered. */
  function endpointStatements(template: Template): Array<{ actions: string[]; resources: string[]; principal: unknown; effect: string }> | undefined {
    const gateway = resourcesOfType(template, 'AWS::EC2::VPCEndpoint').find((e) => e.properties.VpcEndpointType === 'Gateway')!;
    const doc = gateway.properties.PolicyDocument;
    if (doc === undefined) return undefined;
    const list = (v: any) => (Array.isArray(v) ? v : [v]);
    return doc.Statement.map((st: any) => ({
      actions: list(st.Action).sort(),
      resources: list(st.Resource).map((r: any) => render(r)).sort(),
      principal: st.Principal,
      effect: st.Effect,
    }));
  }
  const render = (value: any): string => flattenWith(value);
  const flattenWith = (value: any): string => {
    if (typeof value === 'string') return value;
    if (value?.Ref === 'AWS::Partition') return 'aws';
    if (value?.Ref === 'AWS::Region') return '${Region}';
    if (value?.['Fn::Join']) return value['Fn::Join'][1].map(flattenWith).join(value['Fn::Join'][0]);
    return JSON.stringify(value);
  };
  const resourcesOf = (statements: ReturnType<typeof endpointStatements>) => [...new Set(statements!.flatMap((s) => s.resources))].sort();
  const US_EAST_1_AWS_BUCKETS = [
    'arn:aws:s3:::al2023-repos-us-east-1-de612dc2/*',
    'arn:aws:s3:::amazon-ssm-us-east-1/*',
    'arn:aws:s3:::aws-patch-manager-us-east-1-1970c647d/*',
    'arn:aws:s3:::aws-ssm-us-east-1/*',
    'arn:aws:s3:::patch-baseline-snapshot-us-east-1/*',
  ];

  test('a NetworkTier alone keeps the default policy: every bucket (users\' own buckets keep working)', () => {
    const { template, network } = synthNetwork();
    expect(endpointStatements(template)).toBeUndefined();
    expect(network.s3EndpointRestricted).toBe(false);
  });

  test('restrictS3Endpoint allows reading only the Amazon Linux 2023 repositories and the SSM Agent buckets of the region', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network');
    network.restrictS3Endpoint();
    network.restrictS3Endpoint(); // idempotent
    const statements = endpointStatements(Template.fromStack(stack))!;
    expect(resourcesOf(statements)).toEqual(US_EAST_1_AWS_BUCKETS);
    for (const st of statements) {
      expect(st).toMatchObject({ effect: 'Allow', actions: ['s3:GetObject'], principal: { AWS: '*' } });
    }
    expect(network.s3EndpointRestricted).toBe(true);
  });

  test('in another region the buckets carry that region (and its patch bucket suffixes)', () => {
    const stack = newStack({ env: { account: '123456789012', region: 'me-south-1' } });
    new NetworkTier(stack, 'Network').restrictS3Endpoint();
    expect(resourcesOf(endpointStatements(Template.fromStack(stack)))).toEqual([
      'arn:aws:s3:::al2023-repos-me-south-1-de612dc2/*',
      'arn:aws:s3:::amazon-ssm-me-south-1/*',
      'arn:aws:s3:::aws-patch-manager-me-south-1-a53fc9dce/*',
      'arn:aws:s3:::aws-ssm-me-south-1/*',
      'arn:aws:s3:::patch-baseline-snapshot-me-south-1-uduvl7q8/*',
    ]);
  });

  test('an environment-agnostic stack gets the region-token buckets and a warning that Patch Manager buckets are left out', () => {
    const stack = newStack({ env: null });
    new NetworkTier(stack, 'Network').restrictS3Endpoint();
    expect(resourcesOf(endpointStatements(Template.fromStack(stack)))).toEqual([
      'arn:aws:s3:::al2023-repos-${Region}-de612dc2/*',
      'arn:aws:s3:::amazon-ssm-${Region}/*',
      'arn:aws:s3:::aws-ssm-${Region}/*',
    ]);
    Annotations.fromStack(stack).hasWarning('/Stack/Network', Match.stringLikeRegexp('cdk-three-tier:s3EndpointPatching'));
  });

  test('allowS3Bucket and allowS3Asset add exactly those buckets and objects, before or after the restriction', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network');
    const before = s3.Bucket.fromBucketName(stack, 'Before', 'reports-bucket');
    const after = s3.Bucket.fromBucketName(stack, 'After', 'uploads-bucket');
    const asset = new s3assets.Asset(stack, 'Asset', { path: path.join(__dirname, 'fixtures', 'released', 'README.md') });
    network.allowS3Bucket(before, S3EndpointAccess.READ);
    network.restrictS3Endpoint();
    network.allowS3Bucket(after);
    network.allowS3Asset(asset);
    const statements = endpointStatements(Template.fromStack(stack))!;
    const byResource = (r: string) => statements.filter((s) => s.resources.includes(r)).map((s) => s.actions);
    expect(byResource('arn:aws:s3:::reports-bucket/*')).toEqual([['s3:GetObject']]);
    expect(byResource('arn:aws:s3:::reports-bucket')).toEqual([['s3:ListBucket']]);
    expect(byResource('arn:aws:s3:::uploads-bucket/*')).toEqual([['s3:DeleteObject', 's3:GetObject', 's3:PutObject']]);
    expect(byResource('arn:aws:s3:::uploads-bucket')).toEqual([['s3:ListBucket']]);
    const assetObject = render(stack.resolve(asset.bucket.arnForObjects(asset.s3ObjectKey)));
    expect(assetObject).toMatch(/^arn:aws:s3:::cdk-\w+-assets-123456789012-us-east-1\/[0-9a-f]{64}\.md$/);
    expect(byResource(assetObject)).toEqual([['s3:GetObject']]);
    expect(resourcesOf(statements)).toEqual([...US_EAST_1_AWS_BUCKETS, assetObject,
      'arn:aws:s3:::reports-bucket', 'arn:aws:s3:::reports-bucket/*', 'arn:aws:s3:::uploads-bucket', 'arn:aws:s3:::uploads-bucket/*'].sort());
  });

  test.each(['dev', 'prod'] as PresetName[])('%s platform: the application bucket, the site/app/seed asset objects and the AWS-owned buckets, nothing else', (preset) => {
    const { stack, platform, template } = synthPlatform(preset, {
      app: { source: AppSource.fromAsset(path.join(__dirname, 'fixtures')) },
      web: { siteAssetPath: path.join(__dirname, 'fixtures', 'released') },
      applicationBucket: { seedAssetPath: path.join(__dirname, 'support'), seedPrefix: 'seed/' },
    });
    // The assets the instances download (functions get their code through Lambda, not the VPC).
    const assets = [platform.web, platform.app].flatMap((t) => t.node.findAll()).filter((c): c is s3assets.Asset => c instanceof s3assets.Asset);
    expect(assets.map((a) => a.node.id).sort()).toEqual(['AppAsset', 'BucketSeed', 'SiteAsset']);
    const bucket = platform.applicationBucket!;
    const appBucket = render(stack.resolve(bucket.bucketArn));
    const statements = endpointStatements(template)!;
    expect(resourcesOf(statements)).toEqual([
      ...US_EAST_1_AWS_BUCKETS,
      ...assets.map((a) => render(stack.resolve(a.bucket.arnForObjects(a.s3ObjectKey)))),
      appBucket, `${appBucket}/*`,
    ].sort());
    // The access-log bucket is written by the load balancers, never by the instances.
    expect(JSON.stringify(statements)).not.toContain(stack.resolve(platform.accessLogBucket.bucketArn)['Fn::GetAtt'][0]);
    expect(statements.every((s) => s.effect === 'Allow' && !s.actions.some((a) => a.includes('*')))).toBe(true);
  });
});

describe('network input validation (prop, value and what is allowed, in the message)', () => {
  const tier = (props: NetworkTierProps, env?: null) => () => new NetworkTier(newStack({ env }), 'Network', props);

  test.each<[string, string, RegExp]>([
    ['a leading zero (octal to some parsers)', '010.0.0.0/16', /^cidr \('010\.0\.0\.0\/16'\) must be an IPv4 network address with a prefix length, written without leading zeros/],
    ['a leading zero in the prefix', '10.0.0.0/016', /^cidr \('10\.0\.0\.0\/016'\) must be an IPv4 network address/],
    ['loopback', '127.0.0.0/16', /^cidr \('127\.0\.0\.0\/16'\) must lie in a private range of RFC 1918 \(10\.0\.0\.0\/8, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16\)/],
    ['multicast', '224.0.0.0/16', /^cidr \('224\.0\.0\.0\/16'\) must lie in a private range/],
    ['public', '8.8.0.0/16', /^cidr \('8\.8\.0\.0\/16'\) must lie in a private range/],
    ['shared address space (carrier-grade NAT)', '100.64.0.0/16', /^cidr \('100\.64\.0\.0\/16'\) must lie in a private range.*shared \(100\.64\.0\.0\/10, carrier-grade NAT\)/],
    ['link-local', '169.254.0.0/16', /^cidr \('169\.254\.0\.0\/16'\) must lie in a private range/],
    ['just outside 172.16.0.0/12', '172.32.0.0/16', /^cidr \('172\.32\.0\.0\/16'\) must lie in a private range/],
    ['not a string (plain JavaScript)', 10 as unknown as string, /^cidr \(10\) must be a string/],
  ])('cidr: %s', (_name, cidr, message) => {
    expect(tier({ cidr })).toThrow(message);
  });

  test.each(['10.255.0.0/16', '172.16.0.0/16', '172.31.240.0/20', '192.168.0.0/16', '192.168.8.0/23'])('cidr %s (private, canonical) is accepted', (cidr) => {
    expect(tier({ cidr })().cidr).toBe(cidr);
  });

  test('cidr from a CloudFormation parameter must be a literal', () => {
    const stack = newStack();
    const cidr = new CfnParameter(stack, 'Cidr').valueAsString;
    expect(() => new NetworkTier(stack, 'Network', { cidr })).toThrow(/^cidr \('token \{"Ref":"Cidr"\}'\) must be a literal string \(the address plan cuts it into subnets at synth time\) in Stack\/Network$/);
  });

  test('maxAzs as a token that resolves at synth time is used as its number', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network', { maxAzs: Lazy.number({ produce: () => 3 }) });
    expect(network.maxAzs).toBe(3);
    expect(Token.isUnresolved(network.maxAzs)).toBe(false);
    expect(subnetsOf(Template.fromStack(stack))).toHaveLength(12);
  });

  test('maxAzs from a CloudFormation parameter must be a literal', () => {
    const stack = newStack();
    const maxAzs = new CfnParameter(stack, 'Azs', { type: 'Number' }).valueAsNumber;
    expect(() => new NetworkTier(stack, 'Network', { maxAzs })).toThrow(/^maxAzs \('token \{"Ref":"Azs"\}'\) must be a literal number .* in Stack\/Network$/);
  });

  test('flowLogRetention must be a logs.RetentionDays value (plain JavaScript can pass any number)', () => {
    expect(tier({ flowLogRetention: 42 as logs.RetentionDays }))
      .toThrow(/^flowLogRetention \(42\) must be a logs\.RetentionDays value: 1, 3, 5, 7, 14, 30, .*, 3653 days, or 9999 \(INFINITE: never expires\) in Stack\/Network$/);
    expect(() => tier({ flowLogRetention: logs.RetentionDays.INFINITE })()).not.toThrow();
  });

  test.each<[string, unknown, RegExp]>([
    ['an unknown service', ['ssm', 'foo'], /^interfaceEndpoints \('foo'\) must hold only InterfaceEndpointService values \(ssm, ssmmessages, ec2messages, secretsmanager, logs, kms, cloudformation, monitoring, ec2\)/],
    ['a string instead of a list', 'ssm', /^interfaceEndpoints \('ssm'\) must be a list of InterfaceEndpointService values/],
  ])('interfaceEndpoints: %s', (_name, interfaceEndpoints, message) => {
    expect(tier({ interfaceEndpoints: interfaceEndpoints as InterfaceEndpointService[] })).toThrow(message);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['cidr', { cidr: '192.0.2.0/24' }, /^network\.cidr \('192\.0\.2\.0\/24'\) must lie in a private range/],
    ['maxAzs', { maxAzs: 4 }, /^network\.maxAzs \(4\) must be an integer from 2 to 3/],
    ['interfaceEndpoints', { interfaceEndpoints: ['s3'] }, /^network\.interfaceEndpoints \('s3'\) must hold only InterfaceEndpointService values/],
    ['egress', { egress: 'none' }, /^network\.egress \('none'\) must be an EgressMode value/],
  ])('in the platform, %s errors name the platform prop network.%s and the platform', (_name, network, message) => {
    expect(() => synthPlatform('dev', { network })).toThrow(new RegExp(`${message.source}.* in Stack/Platform$`));
  });

  test('a value from a custom preset is named as the preset field', () => {
    const preset = Preset.custom({ ...Preset.dev().values, name: 'wide', maxAzs: 5 });
    expect(() => synthPlatform(preset)).toThrow(/^preset\.values\.maxAzs \(5\) must be an integer from 2 to 3 in Stack\/Platform$/);
  });

  test('maxAzs as a token in the platform resolves too; a parameter names network.maxAzs', () => {
    const { platform } = synthPlatform('dev', { network: { maxAzs: Lazy.number({ produce: () => 2 }) } });
    expect(platform.network.maxAzs).toBe(2);
    const stack = newStack();
    const maxAzs = new CfnParameter(stack, 'Azs', { type: 'Number' }).valueAsNumber;
    expect(() => new ThreeTierPlatform(stack, 'Platform', { preset: Preset.dev(), app: { source: API_SOURCE }, network: { maxAzs } }))
      .toThrow(/^network\.maxAzs \('token \{"Ref":"Azs"\}'\) must be a literal number .* in Stack\/Platform$/);
  });
});
