/**
 * The platform's extension points, each through `ThreeTierPlatform`: every tier option is
 * reachable under the same name, tier options take effect, an existing VPC, a machine image and
 * boot hooks per fleet, the app runtimes, and the grants.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AppRuntime, AppSource, Preset, ThreeTierPlatform } from '../src';
import { API_SOURCE, newStack, synthPlatform } from './support/stacks';
import { bootFiles, launchTemplateUserData, onlyResource, resourcesOfType, roleStatements } from './support/template';

interface JsiiProperty { readonly name: string }
interface JsiiType { readonly properties?: JsiiProperty[]; readonly interfaces?: string[] }
const JSII = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.jsii'), 'utf8')) as { types: Record<string, JsiiType> };

/** Every property of a jsii interface, inherited ones included. */
function jsiiProperties(name: string): string[] {
  const type = JSII.types[`cdk-three-tier.${name}`];
  if (!type) throw new Error(`no type ${name} in .jsii`);
  return [...(type.interfaces ?? []).flatMap((base) => jsiiProperties(base.replace('cdk-three-tier.', ''))),
    ...(type.properties ?? []).map((p) => p.name)].sort();
}

/** What the platform wires itself, per tier, and why a user does not set it there. */
const WIRED: Record<string, Record<string, string>> = {
  NetworkTierProps: { preset: 'the platform\'s preset' },
  WebTierProps: {
    vpc: 'the network tier\'s VPC',
    preset: 'the platform\'s preset',
    loadBalancerSubnets: 'network.publicSubnets',
    instanceSubnets: 'network.webSubnets',
    apiEndpoint: 'the app tier\'s internal load balancer',
    apiTlsServerName: 'the app tier\'s certificate name',
    apiExactPaths: 'app.publicPaths',
    behindCloudFront: 'edge (CloudFront in front of the load balancer)',
  },
  AppTierProps: {
    vpc: 'the network tier\'s VPC',
    preset: 'the platform\'s preset',
    vpcSubnets: 'network.appSubnets',
    certificate: 'internal TLS: a DNS-validated certificate for internal-api.<web.domainName>',
    domainName: 'internal TLS: internal-api.<web.domainName>',
    hostedZone: 'internal TLS: web.hostedZone',
    database: 'the data tier',
    bucket: 'the application bucket',
    bucketSeedAssetPath: 'applicationBucket.seedAssetPath',
    bucketSeedPrefix: 'applicationBucket.seedPrefix',
  },
  DataTierProps: {
    vpc: 'the network tier\'s VPC',
    preset: 'the platform\'s preset',
    vpcSubnets: 'network.dataSubnets',
    rotationEndpoint: 'the network tier\'s Secrets Manager endpoint',
    rotationSubnets: 'data or app subnets, by endpoint',
  },
};
const PLATFORM_OPTIONS: Record<string, string> = {
  NetworkTierProps: 'PlatformNetworkOptions',
  WebTierProps: 'PlatformWebOptions',
  AppTierProps: 'PlatformAppOptions',
  DataTierProps: 'PlatformDataOptions',
};

describe.each(Object.keys(PLATFORM_OPTIONS))('every %s option is reachable from the platform', (tierProps) => {
  test('under the same name, except what the platform wires', () => {
    const tier = jsiiProperties(tierProps);
    const platform = jsiiProperties(PLATFORM_OPTIONS[tierProps]);
    expect(tier.length).toBeGreaterThan(Object.keys(WIRED[tierProps]).length);
    expect(tier.filter((p) => !platform.includes(p))).toEqual(Object.keys(WIRED[tierProps]).sort());
  });
});

describe('tier options take effect through the platform', () => {
  const base = synthPlatform('staging');
  const changed = synthPlatform('staging', {
    app: { source: AppSource.fromInline('x'), healthCheckPath: '/ready', cpuTargetUtilizationPercent: 40, waf: false },
    web: { healthCheckPath: '/up', requestsPerTargetPerMinute: 500 },
    data: { performanceInsights: false, backupPlan: false },
  });

  test('waf: false on the app tier removes only its web ACL', () => {
    expect(resourcesOfType(base.template, 'AWS::WAFv2::WebACLAssociation')).toHaveLength(2);
    expect(resourcesOfType(changed.template, 'AWS::WAFv2::WebACLAssociation').map((r) => r.id))
      .toEqual([expect.stringMatching(/^PlatformWeb/)]);
  });

  test('health check paths and scaling targets of both fleets', () => {
    const paths = resourcesOfType(changed.template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map((r) => r.properties.HealthCheckPath).sort();
    expect(paths).toEqual(['/ready', '/up']);
    const targets = resourcesOfType(changed.template, 'AWS::AutoScaling::ScalingPolicy')
      .map((r) => r.properties.TargetTrackingConfiguration?.TargetValue).sort();
    expect(targets).toEqual([40, 500, 60]);
  });

  test('performance insights and the backup plan of the data tier', () => {
    expect(onlyResource(base.template, 'AWS::RDS::DBInstance').properties.EnablePerformanceInsights).toBe(true);
    expect(onlyResource(changed.template, 'AWS::RDS::DBInstance').properties.EnablePerformanceInsights).toBeFalsy();
    expect(resourcesOfType(base.template, 'AWS::Backup::BackupPlan')).toHaveLength(1);
    expect(resourcesOfType(changed.template, 'AWS::Backup::BackupPlan')).toHaveLength(0);
  });
});

/** The boot script of one fleet (`Web` or `App`) of the platform. */
function bootScript(stack: Stack, fleet: string): string {
  const template = Template.fromStack(stack);
  return launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate', `Platform${fleet}`).id);
}

describe('a machine image, boot hooks and a runtime per fleet', () => {
  const { template, stack } = synthPlatform('dev', {
    web: {
      machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }),
      bootHooks: { files: [{ path: '/etc/motd', content: 'web\n' }], afterCommands: ['echo web-after'] },
    },
    app: {
      source: AppSource.fromInline('from flask import Flask\napp = Flask(__name__)\n', 'app.py'),
      runtime: AppRuntime.python({ version: '3.12' }),
      bootHooks: { beforeCommands: ['echo app-before'] },
    },
  });

  test('the web fleet runs the given image; the app fleet keeps Amazon Linux 2023', () => {
    const image = (fleet: string) => JSON.stringify(onlyResource(template, 'AWS::EC2::LaunchTemplate', `Platform${fleet}`).properties.LaunchTemplateData.ImageId);
    expect(image('Web')).toBe('"ami-0123456789abcdef0"');
    expect(image('App')).toMatch(/SsmParameterValue.*al2023/);
  });

  test('hooks land on their own fleet only', () => {
    const web = bootScript(stack, 'Web');
    const app = bootScript(stack, 'App');
    expect(bootFiles(web).get('/etc/motd')).toBe('web\n');
    expect(web).toContain('echo web-after');
    expect(web).not.toContain('echo app-before');
    expect(app).toContain('echo app-before');
    expect(app).not.toContain('web-after');
  });

  test('the app fleet installs Python 3.12 and no Node.js', () => {
    const app = bootScript(stack, 'App');
    expect(app).toContain('dnf install -y python3.12 python3.12-pip');
    expect(app).not.toContain('nodejs');
  });
});

describe('grants on the platform', () => {
  /** Every action granted to a role of the stack. */
  function actionsOf(stack: Stack, role: iam.Role): string[] {
    const template = Template.fromStack(stack);
    return roleStatements(template, stack.getLogicalId(role.node.defaultChild as iam.CfnRole)).flatMap((s) => s.actions);
  }

  test('application bucket read and read-write, database connect', () => {
    const stack = newStack();
    const platform = new ThreeTierPlatform(stack, 'Platform', { preset: Preset.dev(), app: { source: API_SOURCE }, applicationBucket: {} });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    platform.grantApplicationBucketRead(reader);
    platform.grantApplicationBucketReadWrite(writer);
    platform.grantDatabaseConnect(reader);
    const read = actionsOf(stack, reader);
    const write = actionsOf(stack, writer);
    expect(read).toEqual(expect.arrayContaining(['s3:GetObject*', 'kms:Decrypt', 'rds-db:connect']));
    expect(read.filter((a) => /Put|Delete/.test(a))).toEqual([]);
    expect(write).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject', 's3:DeleteObject*', 'kms:Encrypt']));
    expect(write).not.toContain('rds-db:connect');
  });

  test('a bucket grant without the application bucket is an error that says what to pass', () => {
    const { stack, platform } = synthPlatform('dev');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => platform.grantApplicationBucketRead(role)).toThrow(/grantApplicationBucketRead\(\) needs the application bucket in Stack\/Platform: pass applicationBucket/);
  });
});
