import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import {
  DataTier, EgressMode, InterfaceEndpointService, NatMode, NetworkTier, NetworkTierProps, S3EndpointAccess, ThreeTierPlatform,
} from '../src';
import { API_SOURCE, ENV, newStack, PRESET_NAMES, PRESETS } from './support/stacks';
import { onlyResource, resourcesOfType } from './support/template';

/**
 * The network tier (and the platform) in a VPC it did not create: it uses exactly the subnets it
 * is given and creates nothing that belongs to the VPC's owner.
 */

const PUBLIC = ['subnet-pub-a', 'subnet-pub-b'];
const WEB = ['subnet-web-a', 'subnet-web-b'];
const APP = ['subnet-app-a', 'subnet-app-b'];
const ISOLATED = ['subnet-iso-a', 'subnet-iso-b'];

/** What the tier must not create in a VPC it was given. */
const OWNER_TYPES = [
  'AWS::EC2::VPC', 'AWS::EC2::Subnet', 'AWS::EC2::NatGateway', 'AWS::EC2::Instance', 'AWS::EC2::InternetGateway', 'AWS::EC2::Route',
  'AWS::EC2::NetworkAcl', 'AWS::EC2::NetworkAclEntry', 'AWS::EC2::SubnetNetworkAclAssociation', 'AWS::EC2::FlowLog', 'AWS::Logs::LogGroup',
];

/** A shared VPC in us-east-1a/b: public, two private groups (Web, App) and isolated subnets. */
function sharedVpc(stack: Stack, attrs: Partial<ec2.VpcAttributes> = {}): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Shared', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.50.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: PUBLIC,
    privateSubnetIds: [...WEB, ...APP],
    privateSubnetNames: ['Web', 'App'],
    isolatedSubnetIds: ISOLATED,
    ...attrs,
  });
}

function synthNetwork(props: Partial<NetworkTierProps> = {}, attrs: Partial<ec2.VpcAttributes> = {}) {
  const stack = newStack();
  const vpc = sharedVpc(stack, attrs);
  const network = new NetworkTier(stack, 'Network', { vpc, ...props });
  return { stack, vpc, network, template: () => Template.fromStack(stack) };
}

const ids = (vpc: ec2.IVpc, selection: ec2.SubnetSelection) => vpc.selectSubnets(selection).subnetIds;

describe('a NetworkTier given an existing VPC', () => {
  test('creates no VPC, subnet, NAT, route, network ACL, flow log or endpoint of its own', () => {
    const { network, vpc, template } = synthNetwork();
    for (const type of [...OWNER_TYPES, 'AWS::EC2::VPCEndpoint', 'AWS::EC2::SecurityGroup', 'AWS::KMS::Key']) {
      template().resourceCountIs(type, 0);
    }
    expect(network.vpc).toBe(vpc);
    expect(network.createdVpc).toBe(false);
    for (const part of [network.s3Endpoint, network.flowLogGroup, network.flowLogKey, network.endpointSecurityGroup]) expect(part).toBeUndefined();
    expect([network.cidr, network.egress, network.natMode]).toEqual([undefined, undefined, undefined]);
    expect(network.interfaceEndpointServices).toEqual([]);
    expect(network.maxAzs).toBe(2);
  });

  test('defaults: public, private with egress (web and app) and isolated subnets', () => {
    const { network, vpc } = synthNetwork({}, { privateSubnetIds: WEB, privateSubnetNames: undefined });
    expect(ids(vpc, network.publicSubnets)).toEqual(PUBLIC);
    expect(ids(vpc, network.webSubnets)).toEqual(WEB);
    expect(ids(vpc, network.appSubnets)).toEqual(WEB);
    expect(ids(vpc, network.dataSubnets)).toEqual(ISOLATED);
  });

  test('uses exactly the subnets it is given, web and app apart or together', () => {
    const apart = synthNetwork({ webSubnets: { subnetGroupName: 'Web' }, appSubnets: { subnetGroupName: 'App' } });
    expect(ids(apart.vpc, apart.network.webSubnets)).toEqual(WEB);
    expect(ids(apart.vpc, apart.network.appSubnets)).toEqual(APP);

    const together = synthNetwork({ webSubnets: { subnetGroupName: 'App' }, appSubnets: { subnetGroupName: 'App' } });
    expect(ids(together.vpc, together.network.webSubnets)).toEqual(APP);
    expect(ids(together.vpc, together.network.appSubnets)).toEqual(APP);
  });

  test('a DataTier on its data subnets gets exactly those in its subnet group', () => {
    const { stack, network, vpc, template } = synthNetwork({ dataSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } });
    new DataTier(stack, 'Data', { vpc, vpcSubnets: network.dataSubnets, rotationSubnets: network.appSubnets, rotation: false });
    expect(onlyResource(template(), 'AWS::RDS::DBSubnetGroup').properties.SubnetIds).toEqual(ISOLATED);
  });

  test('the interface endpoints listed, and only those, in the app subnets, as children of the tier', () => {
    const { network, template } = synthNetwork({ appSubnets: { subnetGroupName: 'App' }, interfaceEndpoints: [InterfaceEndpointService.SSM] });
    const endpoints = resourcesOfType(template(), 'AWS::EC2::VPCEndpoint');
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0].properties).toMatchObject({ VpcId: 'vpc-0123456789abcdef0', SubnetIds: APP, PrivateDnsEnabled: true, VpcEndpointType: 'Interface' });
    expect(network.endpoint(InterfaceEndpointService.SSM)!.node.path).toBe('Stack/Network/SsmEndpoint');
    expect(network.endpointSecurityGroup).toBeDefined();
  });

  test('the preset\'s interface endpoints are not created in an existing VPC (default none)', () => {
    const { network, template } = synthNetwork({ preset: PRESETS.prod() });
    expect(network.interfaceEndpointServices).toEqual([]);
    template().resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  test('restrictS3Endpoint, allowS3Bucket, allowS3Asset and restrictSubnetTraffic change nothing', () => {
    const untouched = synthNetwork().template().toJSON();
    const { stack, network } = synthNetwork();
    network.allowS3Bucket(s3.Bucket.fromBucketName(stack, 'Bucket', 'some-bucket'), S3EndpointAccess.READ);
    network.allowS3Asset(new s3assets.Asset(stack, 'Asset', { path: path.join(__dirname, 'existing-vpc.test.ts') }));
    network.restrictS3Endpoint();
    network.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80 });
    const resources = Template.fromStack(stack).toJSON().Resources;
    // The asset is a parameter-free file reference: no resource of its own.
    expect(resources).toEqual(untouched.Resources);
    expect(network.s3EndpointRestricted).toBe(false);
    expect(network.subnetTrafficRules).toEqual([]);
    expect(network.networkAcl('Data')).toBeUndefined();
  });

  test('restrictSubnetTraffic still checks its ports and runs once', () => {
    expect(() => synthNetwork().network.restrictSubnetTraffic({ databasePort: 70000, appPort: 8080, appListenerPort: 80 }))
      .toThrow(/^databasePort \(70000\) must be an integer from 1 to 65535 in Stack\/Network$/);
    const { network } = synthNetwork();
    network.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80 });
    expect(() => network.restrictSubnetTraffic({ databasePort: 3306, appPort: 8080, appListenerPort: 80 })).toThrow(/already called/);
  });

  test('plannedSubnetCidr has no address plan to give', () => {
    expect(() => synthNetwork().network.plannedSubnetCidr('Web', 0)).toThrow(/plannedSubnetCidr needs the VPC the tier creates/);
  });
});

describe('bad inputs with an existing VPC are refused, naming the prop', () => {
  test.each<[string, Partial<NetworkTierProps>, RegExp]>([
    ['cidr', { cidr: '10.1.0.0/16' }, /^cidr \('10\.1\.0\.0\/16'\) applies only to the VPC the tier creates/],
    ['maxAzs', { maxAzs: 3 }, /^maxAzs \(3\) applies only to the VPC the tier creates/],
    ['natMode', { natMode: NatMode.singleGateway() }, /^natMode \(NatMode\.singleGateway\(\)\) applies only to the VPC the tier creates/],
    ['egress', { egress: EgressMode.AWS_SERVICES_ONLY }, /^egress \('aws-services-only'\) applies only to the VPC the tier creates/],
    ['flowLogRetention', { flowLogRetention: logs.RetentionDays.ONE_WEEK }, /^flowLogRetention \(7\) applies only to the VPC the tier creates/],
    ['data subnets of one AZ', { dataSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED, availabilityZones: ['us-east-1a'] } },
      /^dataSubnets \('1 subnet\(s\) in 1 AZ\(s\)'\) must select at least 2 subnets in 2 AZs.* in Stack\/Network$/],
    ['one public subnet', { publicSubnets: { subnets: [ec2.Subnet.fromSubnetAttributes(new Stack(), 'S', { subnetId: 'subnet-pub-a', availabilityZone: 'us-east-1a' })] } },
      /^publicSubnets \('1 subnet\(s\) in 1 AZ\(s\)'\) must select at least 2 subnets in 2 AZs/],
    ['a subnet group the VPC does not have', { webSubnets: { subnetGroupName: 'Cache' } },
      /^webSubnets \('subnetGroupName Cache'\) selects no subnets of Stack\/Shared: .*Cache/],
    ['public data subnets', { dataSubnets: { subnetType: ec2.SubnetType.PUBLIC } },
      /^dataSubnets \('subnetType Public'\) must not select public subnets/],
    ['data subnets that are public by group', { dataSubnets: { subnetGroupName: 'Public' } },
      /^dataSubnets \('subnetGroupName Public'\) must not select public subnets/],
    ['an unknown interface endpoint', { interfaceEndpoints: ['s3' as InterfaceEndpointService] }, /^interfaceEndpoints \('s3'\) must hold only InterfaceEndpointService values/],
  ])('%s', (_name, props, error) => {
    expect(() => synthNetwork(props)).toThrow(error);
  });

  test('the default data selection in a VPC without isolated subnets', () => {
    expect(() => synthNetwork({}, { isolatedSubnetIds: undefined }))
      .toThrow(/^dataSubnets \('subnetType Isolated'\) selects no subnets of Stack\/Shared: There are no 'Isolated' subnet groups in this VPC/);
  });
});

test.each(['publicSubnets', 'webSubnets', 'appSubnets', 'dataSubnets'])('%s without an existing vpc is refused', (prop) => {
  expect(() => new NetworkTier(newStack(), 'Network', { [prop]: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }))
    .toThrow(new RegExp(`^${prop} \\('subnetType Isolated'\\) applies only with an existing vpc: .* in Stack/Network$`));
});

test('a created VPC says so', () => {
  const network = new NetworkTier(newStack(), 'Network');
  expect(network.createdVpc).toBe(true);
  expect(network.vpc.node.path).toBe('Stack/Network/Vpc');
  expect(network.dataSubnets).toEqual({ subnetGroupName: 'Data' });
});

describe('a VPC made in another stack', () => {
  // Apps made here synthesize into folders this suite removes.
  const outdirs: string[] = [];
  afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const newApp = () => {
    outdirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'existing-vpc-')));
    return new App({ outdir: outdirs[outdirs.length - 1] });
  };

  function sharedNetwork(app: App) {
    const shared = new Stack(app, 'SharedNetwork', { env: ENV });
    const vpc = new ec2.Vpc(shared, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    return { shared, vpc };
  }

  function build(interfaceEndpoints?: InterfaceEndpointService[]) {
    const app = newApp();
    const { shared, vpc } = sharedNetwork(app);
    const stack = new Stack(app, 'Workload', { env: ENV });
    const network = new NetworkTier(stack, 'Network', { vpc, interfaceEndpoints });
    new DataTier(stack, 'Data', { vpc: network.vpc, vpcSubnets: network.dataSubnets, rotationSubnets: network.appSubnets });
    return { shared, stack, vpc, network };
  }

  test('the workload stack creates none of the VPC\'s resources and imports its data subnets', () => {
    const { stack, vpc } = build();
    const template = Template.fromStack(stack);
    for (const type of OWNER_TYPES.filter((t) => t !== 'AWS::Logs::LogGroup')) template.resourceCountIs(type, 0);
    const subnetIds = onlyResource(template, 'AWS::RDS::DBSubnetGroup').properties.SubnetIds;
    expect(subnetIds).toHaveLength(2);
    for (const id of subnetIds) expect(id).toHaveProperty(['Fn::ImportValue']);
    expect(JSON.stringify(subnetIds)).toContain('IsolatedSubnet');
    expect(vpc.isolatedSubnets).toHaveLength(2);
  });

  test('nothing is added to the VPC\'s stack, not even the interface endpoints', () => {
    const alone = Template.fromStack(sharedNetwork(newApp()).shared).toJSON();
    const { shared, stack } = build([InterfaceEndpointService.SECRETS_MANAGER]);
    Template.fromStack(stack).resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    const withWorkload = Template.fromStack(shared).toJSON();
    expect(Object.keys(withWorkload.Resources).sort()).toEqual(Object.keys(alone.Resources).sort());
    expect(Object.values<any>(withWorkload.Resources).filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')).toEqual([]);
  });
});

describe('a ThreeTierPlatform on an existing VPC', () => {
  test.each(PRESET_NAMES)('%s: synthesizes on exactly the given subnets, creating none of the VPC\'s resources', (presetName) => {
    const stack = newStack();
    const vpc = sharedVpc(stack);
    new ThreeTierPlatform(stack, 'Platform', {
      preset: PRESETS[presetName](),
      app: { source: API_SOURCE },
      web: { allowHttpOnly: true },
      network: { vpc, webSubnets: { subnetGroupName: 'Web' }, appSubnets: { subnetGroupName: 'App' } },
    });
    const template = Template.fromStack(stack);
    for (const type of OWNER_TYPES.filter((t) => t !== 'AWS::Logs::LogGroup' && t !== 'AWS::EC2::Instance')) template.resourceCountIs(type, 0);
    const loadBalancers = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(loadBalancers.find((lb) => lb.properties.Scheme === 'internet-facing')!.properties.Subnets).toEqual(PUBLIC);
    expect(loadBalancers.find((lb) => lb.properties.Scheme === 'internal')!.properties.Subnets).toEqual(APP);
    const groups = resourcesOfType(template, 'AWS::AutoScaling::AutoScalingGroup').map((g) => g.properties.VPCZoneIdentifier);
    expect(groups).toEqual(expect.arrayContaining([WEB, APP]));
    expect(onlyResource(template, 'AWS::RDS::DBSubnetGroup').properties.SubnetIds).toEqual(ISOLATED);
  });

  test('a created-VPC prop is refused under the platform\'s name', () => {
    const stack = newStack();
    expect(() => new ThreeTierPlatform(stack, 'Platform', {
      preset: PRESETS.dev(),
      app: { source: API_SOURCE },
      web: { allowHttpOnly: true },
      network: { vpc: sharedVpc(stack), cidr: '10.1.0.0/16' },
    })).toThrow(/^network\.cidr \('10\.1\.0\.0\/16'\) applies only to the VPC the tier creates.* in Stack\/Platform$/);
  });
});
