import { CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { NetworkTier, WebTier, AppTier, DataTier } from '../src';
import { PRESET_NAMES, PresetName, synthPlatform, SynthesizedPlatform } from './support/stacks';
import { onlyResource, resourcesOfType, tagsOf } from './support/template';

const synthesized = {} as Record<PresetName, SynthesizedPlatform>;
beforeAll(() => {
  for (const preset of PRESET_NAMES) synthesized[preset] = synthPlatform(preset);
});

describe('composition', () => {
  test('the tiers and their parts are public fields', () => {
    const { platform } = synthesized.dev;
    expect(platform.network).toBeInstanceOf(NetworkTier);
    expect(platform.web).toBeInstanceOf(WebTier);
    expect(platform.app).toBeInstanceOf(AppTier);
    expect(platform.data).toBeInstanceOf(DataTier);
    expect(platform.vpc).toBe(platform.network.vpc);
    expect(platform.preset.name).toBe('dev');
    expect(platform.web.loadBalancer.node.path).toBe('Stack/Platform/Web/LoadBalancer');
    expect(platform.web.autoScalingGroup.node.path).toBe('Stack/Platform/Web/AutoScalingGroup');
    expect(platform.app.loadBalancer.node.path).toBe('Stack/Platform/App/LoadBalancer');
    expect(platform.app.autoScalingGroup.node.path).toBe('Stack/Platform/App/AutoScalingGroup');
    expect(platform.data.database.node.path).toBe('Stack/Platform/Data/Database');
    expect(platform.data.secret).toBe(platform.data.database.secret);
    expect(platform.accessLogBucket.node.path).toBe('Stack/Platform/AccessLogBucket');
    expect(platform.siteUrl).toBe(platform.web.siteUrl);
  });

  test.each(PRESET_NAMES)('%s: each tier in its own subnets', (preset) => {
    const { platform, stack } = synthesized[preset];
    const subnetIds = (selection: ec2.SubnetSelection) => platform.vpc.selectSubnets(selection).subnetIds.map((s) => stack.resolve(s));
    const resolveIds = (ids: string[]) => stack.resolve(ids);
    const webLb = onlyResource(synthesized[preset].template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'PlatformWebLoadBalancer');
    const appLb = onlyResource(synthesized[preset].template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'PlatformAppLoadBalancer');
    const webAsg = onlyResource(synthesized[preset].template, 'AWS::AutoScaling::AutoScalingGroup', 'PlatformWebAutoScalingGroup');
    const appAsg = onlyResource(synthesized[preset].template, 'AWS::AutoScaling::AutoScalingGroup', 'PlatformAppAutoScalingGroup');
    const subnetGroup = onlyResource(synthesized[preset].template, 'AWS::RDS::DBSubnetGroup');
    expect(webLb.properties.Subnets).toEqual(subnetIds(platform.network.publicSubnets));
    expect(webAsg.properties.VPCZoneIdentifier).toEqual(subnetIds(platform.network.webSubnets));
    expect(appLb.properties.Subnets).toEqual(subnetIds(platform.network.appSubnets));
    expect(appAsg.properties.VPCZoneIdentifier).toEqual(subnetIds(platform.network.appSubnets));
    expect(subnetGroup.properties.SubnetIds).toEqual(subnetIds(platform.network.dataSubnets));
    expect(resolveIds(platform.vpc.isolatedSubnets.map((s) => s.subnetId))).toEqual(expect.arrayContaining(subnetIds(platform.network.dataSubnets)));
  });

  test('the web tier proxies to the internal load balancer; both load balancers log to the platform bucket', () => {
    const { platform, stack, template } = synthesized.dev;
    const appLb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'PlatformAppLoadBalancer').id;
    expect(JSON.stringify(stack.resolve(platform.web.nginxConfig))).toContain(`{"Fn::GetAtt":["${appLb}","DNSName"]},":80 max_fails`);
    const bucket = stack.resolve(platform.accessLogBucket.bucketName);
    for (const lb of resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      expect(lb.properties.LoadBalancerAttributes).toContainEqual({ Key: 'access_logs.s3.bucket', Value: bucket });
    }
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });
});

describe('tags', () => {
  test.each(PRESET_NAMES)('%s: every taggable resource carries project and environment', (preset) => {
    const { stack, template } = synthesized[preset];
    const resources = template.toJSON().Resources;
    const taggable = stack.node.findAll()
      .filter((c): c is CfnResource => CfnResource.isCfnResource(c) && (TagManager.isTaggable(c) || TagManager.isTaggableV2(c)))
      .map((c) => stack.resolve(c.logicalId) as string)
      .filter((id) => resources[id] !== undefined);
    expect(taggable.length).toBeGreaterThan(50);
    const missing = taggable.filter((id) => {
      const tags = tagsOf(resources[id].Properties);
      return tags.project !== 'Platform' || tags.environment !== preset;
    });
    expect(missing).toEqual([]);
  });

  test('projectName sets the project tag', () => {
    const { template } = synthPlatform('dev', { projectName: 'shop' });
    template.hasResourceProperties('AWS::EC2::VPC', {
      Tags: Match.arrayWith([{ Key: 'environment', Value: 'dev' }, { Key: 'project', Value: 'shop' }]),
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', {
      Tags: Match.arrayWith([{ Key: 'project', Value: 'shop' }]),
    });
  });
});

describe('outputs', () => {
  test.each(PRESET_NAMES)('%s: SiteUrl, DatabaseEndpoint, DatabaseSecretArn', (preset) => {
    const { template, platform, stack } = synthesized[preset];
    const outputs = template.toJSON().Outputs;
    const byPrefix = (prefix: string) => {
      const ids = Object.keys(outputs).filter((id) => id.startsWith(prefix));
      expect(ids).toHaveLength(1);
      return outputs[ids[0]];
    };
    const webLb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'PlatformWebLoadBalancer').id;
    expect(byPrefix('PlatformWebSiteUrl').Value).toEqual({ 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [webLb, 'DNSName'] }]] });
    expect(byPrefix('PlatformDatabaseEndpoint').Value).toEqual({ 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBInstance').id, 'Endpoint.Address'] });
    expect(byPrefix('PlatformDatabaseSecretArn').Value).toEqual(stack.resolve(platform.data.secret.secretArn));
  });
});

/**
 * The logical IDs of stateful resources are part of the public contract: changing one makes
 * CloudFormation replace the resource (a new, empty database; a new key that old snapshots cannot
 * use). Adding one is fine but must be listed here; changing or removing one is a breaking change.
 */
describe('stateful logical IDs (platform `Platform` in stack `Stack`)', () => {
  const STATEFUL_TYPES = [
    'AWS::RDS::DBInstance',
    'AWS::RDS::DBSubnetGroup',
    'AWS::SecretsManager::Secret',
    'AWS::KMS::Key',
    'AWS::S3::Bucket',
    'AWS::Logs::LogGroup',
    'AWS::Backup::BackupVault',
  ];
  const COMMON = [
    'AWS::KMS::Key PlatformAppInstanceLogKey284C07DC',
    'AWS::KMS::Key PlatformAppVolumeKeyFF53313A',
    'AWS::KMS::Key PlatformAppWafLogKey23CDAB04',
    'AWS::KMS::Key PlatformDataAppUserLogKey51FCFABA',
    'AWS::KMS::Key PlatformDataEncryptionKey7F8083F3',
    'AWS::KMS::Key PlatformNetworkFlowLogKeyA8CBA491',
    'AWS::KMS::Key PlatformNotificationKeyEA507092',
    'AWS::KMS::Key PlatformWebInstanceLogKey531ED3F8',
    'AWS::KMS::Key PlatformWebVolumeKeyCAE12A95',
    'AWS::KMS::Key PlatformWebWafLogKey40EF9AE2',
    'AWS::Logs::LogGroup PlatformAppAppLogGroup05FDB051',
    'AWS::Logs::LogGroup PlatformAppSystemLogGroup119E37E3',
    'AWS::Logs::LogGroup PlatformAppWafLogGroupD06475FA',
    'AWS::Logs::LogGroup PlatformDataAppUserLogGroupB570AE90',
    'AWS::Logs::LogGroup PlatformNetworkFlowLogGroup6E4BFBFF',
    'AWS::Logs::LogGroup PlatformWebNginxAccessLogGroup4957F40C',
    'AWS::Logs::LogGroup PlatformWebNginxErrorLogGroup88553C5D',
    'AWS::Logs::LogGroup PlatformWebSystemLogGroup12F2749F',
    'AWS::Logs::LogGroup PlatformWebWafLogGroup5CAEF785',
    'AWS::RDS::DBInstance PlatformDataDatabase07C55BA2',
    'AWS::RDS::DBSubnetGroup PlatformDataDatabaseSubnetGroup47172D4D',
    'AWS::S3::Bucket PlatformAccessLogBucket073E9C5E',
    // aws-cdk-lib names the generated secret from its full path (stack id included) and a hash of
    // the password options: changing excludeCharacters or the stack id replaces the secret.
    'AWS::SecretsManager::Secret StackPlatformDataDatabaseSecret8B6A20793fdaad7efa858a3daf9490cf0a702aeb',
  ];
  const EXPECTED: Record<PresetName, string[]> = {
    dev: COMMON,
    staging: [...COMMON, 'AWS::Backup::BackupVault PlatformDataBackupVault980B0F15'],
    prod: [...COMMON, 'AWS::Backup::BackupVault PlatformDataBackupVault980B0F15'],
  };

  test.each(PRESET_NAMES)('%s', (preset) => {
    const { template } = synthesized[preset];
    const actual = STATEFUL_TYPES.flatMap((type) => resourcesOfType(template, type).map((r) => `${type} ${r.id}`));
    expect(actual.sort()).toEqual([...EXPECTED[preset]].sort());
  });

  test('the IDs do not depend on the stack\'s environment or other props', () => {
    const other = synthPlatform('dev', { projectName: 'other', network: { cidr: '10.50.0.0/16' }, data: { databaseName: 'shop' } });
    const actual = STATEFUL_TYPES.flatMap((type) => resourcesOfType(other.template, type).map((r) => `${type} ${r.id}`));
    expect(actual.sort()).toEqual([...EXPECTED.dev].sort());
    expect(Stack.of(other.platform).stackName).toBe('Stack');
  });
});
