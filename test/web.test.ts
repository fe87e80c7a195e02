import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { WebTier, WebTierProps } from '../src';
import { newStack, PRESETS, PresetName } from './support/stacks';
import { flatten, bootFile, ingressRules, egressRules, launchTemplateUserData, onlyResource, refId, roleStatements } from './support/template';

const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const HTTP_ONLY = /cdk-three-tier:httpOnly/;

interface SynthesizedWeb {
  readonly stack: Stack;
  readonly web: WebTier;
  readonly template: Template;
}

/** A web tier in a VPC with public and private (egress) subnets. `certificate: true` adds an imported one. */
function synthWeb(preset: PresetName, props: Partial<Omit<WebTierProps, 'certificate'>> & { certificate?: boolean } = {}, env?: null): SynthesizedWeb {
  const stack = newStack({ env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const { certificate, ...rest } = props;
  const web = new WebTier(stack, 'Web', {
    vpc,
    apiEndpoint: 'api.internal.example:80',
    preset: PRESETS[preset](),
    certificate: certificate ? acm.Certificate.fromCertificateArn(stack, 'Certificate', CERTIFICATE_ARN) : undefined,
    ...rest,
  });
  return { stack, web, template: Template.fromStack(stack) };
}

/** One synthesis per preset as the tests below use it: dev and staging HTTP only, prod with a certificate. */
const byPreset: Record<PresetName, () => SynthesizedWeb> = (() => {
  const cache = new Map<PresetName, SynthesizedWeb>();
  const get = (p: PresetName) => {
    if (!cache.has(p)) cache.set(p, synthWeb(p, { certificate: p === 'prod' }));
    return cache.get(p)!;
  };
  return { dev: () => get('dev'), staging: () => get('staging'), prod: () => get('prod') };
})();

const ids = (template: Template) => ({
  loadBalancer: onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer').id,
  loadBalancerSg: onlyResource(template, 'AWS::EC2::SecurityGroup', 'WebLoadBalancerSecurityGroup').id,
  instanceSg: onlyResource(template, 'AWS::EC2::SecurityGroup', 'WebInstanceSecurityGroup').id,
  launchTemplate: onlyResource(template, 'AWS::EC2::LaunchTemplate', 'WebLaunchTemplate').id,
  asg: onlyResource(template, 'AWS::AutoScaling::AutoScalingGroup', 'WebAutoScalingGroup').id,
  role: onlyResource(template, 'AWS::IAM::Role', 'WebInstanceRole').id,
  bucket: onlyResource(template, 'AWS::S3::Bucket', 'WebAccessLogBucket').id,
  targetGroup: onlyResource(template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'WebTargetGroup').id,
});

function attributes(template: Template): Record<string, string> {
  const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'WebLoadBalancer');
  return Object.fromEntries(lb.properties.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
}

describe('public load balancer', () => {
  test.each(['dev', 'staging', 'prod'] as PresetName[])('%s: internet-facing in the public subnets, invalid headers dropped, access logs on', (preset) => {
    const { template } = byPreset[preset]();
    const id = ids(template);
    const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.properties).toMatchObject({ Type: 'application', Scheme: 'internet-facing' });
    expect(lb.properties.Subnets.map(refId).every((s: string) => s.includes('PublicSubnet'))).toBe(true);
    expect(attributes(template)).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'web',
    });
    expect(attributes(template)['access_logs.s3.bucket']).toEqual({ Ref: id.bucket });
  });

  test.each<[PresetName, string]>([
    ['dev', 'false'],
    ['staging', 'false'],
    ['prod', 'true'],
  ])('%s: deletion protection %s', (preset, value) => {
    expect(attributes(byPreset[preset]().template)['deletion_protection.enabled']).toBe(value);
  });

  test('the deletionProtection prop wins over the preset', () => {
    expect(attributes(synthWeb('dev', { deletionProtection: true }).template)['deletion_protection.enabled']).toBe('true');
  });
});

describe('access log bucket', () => {
  test.each<[PresetName, number]>([
    ['dev', 30],
    ['staging', 90],
    ['prod', 365],
  ])('%s: versioned, public access blocked, TLS enforced, objects expire after %i days', (preset, days) => {
    const { template } = byPreset[preset]();
    const id = ids(template);
    const bucket = onlyResource(template, 'AWS::S3::Bucket');
    expect(bucket.properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
    expect(bucket.properties.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ ExpirationInDays: days, Status: 'Enabled' }));
    expect(bucket.resource.DeletionPolicy).toBe('Retain');
    const policy = onlyResource(template, 'AWS::S3::BucketPolicy');
    expect(policy.properties.Bucket).toEqual({ Ref: id.bucket });
    expect(policy.properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Deny',
      Action: 's3:*',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
  });

  test('the ELB account of the region may write the web/ prefix only', () => {
    const { template } = byPreset.dev();
    const writes = onlyResource(template, 'AWS::S3::BucketPolicy').properties.PolicyDocument.Statement
      .filter((s: any) => s.Effect === 'Allow' && s.Action === 's3:PutObject');
    expect(writes.length).toBeGreaterThan(0);
    for (const s of writes) expect(JSON.stringify(s.Resource)).toContain('/web/AWSLogs/123456789012/*');
    expect(JSON.stringify(writes)).toContain(':iam::127311923021:root');
  });

  test('in a region-agnostic stack the log delivery service principal writes the logs', () => {
    const { template } = synthWeb('dev', {}, null);
    const statements = onlyResource(template, 'AWS::S3::BucketPolicy').properties.PolicyDocument.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
    }));
    expect(attributes(template)['access_logs.s3.enabled']).toBe('true');
  });

  test('the accessLogExpirationDays prop wins over the preset', () => {
    const { template } = synthWeb('dev', { accessLogExpirationDays: 10 });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 10 })]) },
    });
  });
});

describe('listeners', () => {
  test('with a certificate: HTTPS on 443 with the TLS 1.3/1.2 policy, HTTP 80 redirects to it (301)', () => {
    const { template, web } = byPreset.prod();
    const id = ids(template);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: id.targetGroup } }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
    expect(web.httpsEnabled).toBe(true);
    expect(web.siteUrl).toMatch(/^https:\/\//);
    // The public ALB is open on exactly 80 and 443.
    expect(ingressRules(template, id.loadBalancerSg).sort((a, b) => a.fromPort - b.fromPort)).toEqual([
      { peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 80, toPort: 80 },
      { peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 443, toPort: 443 },
    ]);
  });

  test('the sslPolicy prop wins over the default', () => {
    const { template } = synthWeb('dev', { certificate: true, sslPolicy: elbv2.SslPolicy.TLS13_13 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, SslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' });
  });

  test('with domainName and hostedZone: a DNS-validated certificate and an alias record', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' });
    const web = new WebTier(stack, 'Web', { vpc, apiEndpoint: 'api.internal.example:80', preset: PRESETS.prod(), domainName: 'www.example.com', hostedZone });
    const template = Template.fromStack(stack);
    const id = ids(template);
    const certificate = onlyResource(template, 'AWS::CertificateManager::Certificate');
    expect(certificate.properties).toMatchObject({
      DomainName: 'www.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'www.example.com', HostedZoneId: 'Z0123456789ABC' }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Certificates: [{ CertificateArn: { Ref: certificate.id } }],
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'www.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: {
        DNSName: { 'Fn::Join': ['', ['dualstack.', { 'Fn::GetAtt': [id.loadBalancer, 'DNSName'] }]] },
        HostedZoneId: { 'Fn::GetAtt': [id.loadBalancer, 'CanonicalHostedZoneID'] },
      },
    });
    expect(web.siteUrl).toBe('https://www.example.com');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(HTTP_ONLY.source));
  });

  test('without a certificate: one HTTP listener forwarding to the instances', () => {
    const { template, web } = byPreset.dev();
    const id = ids(template);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: id.targetGroup } }],
    });
    expect(web.httpsEnabled).toBe(false);
    expect(web.certificate).toBeUndefined();
    expect(ingressRules(template, id.loadBalancerSg)).toEqual([{ peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 80, toPort: 80 }]);
  });

  test('HTTP only in dev: no warning', () => {
    Annotations.fromStack(byPreset.dev().stack).hasNoWarning('*', Match.stringLikeRegexp(HTTP_ONLY.source));
  });

  test('HTTP only in staging: a cdk-three-tier:httpOnly warning on the web tier', () => {
    Annotations.fromStack(byPreset.staging().stack).hasWarning('/Stack/Web', Match.stringLikeRegexp('serves HTTP only.*cdk-three-tier:httpOnly'));
  });

  test('HTTP only in staging with allowHttpOnly: no warning', () => {
    Annotations.fromStack(synthWeb('staging', { allowHttpOnly: true }).stack).hasNoWarning('*', Match.stringLikeRegexp(HTTP_ONLY.source));
  });

  test('HTTP only in prod: an error', () => {
    expect(() => synthWeb('prod')).toThrow(/certificate \(undefined\) is required with the prod preset in Stack\/Web: .*allowHttpOnly: true/);
  });

  test('HTTP only in prod with allowHttpOnly: a warning', () => {
    Annotations.fromStack(synthWeb('prod', { allowHttpOnly: true }).stack).hasWarning('/Stack/Web', Match.stringLikeRegexp(HTTP_ONLY.source));
  });
});

describe('instances', () => {
  test('launch template: IMDSv2 with hop limit 1, gp3 root volume encrypted with the fleet customer managed key, no key pair, no public IP, AL2023', () => {
    const { template } = byPreset.prod();
    const id = ids(template);
    const data = onlyResource(template, 'AWS::EC2::LaunchTemplate').properties.LaunchTemplateData;
    expect(data.MetadataOptions).toEqual({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
    expect(data.BlockDeviceMappings).toEqual([{
      DeviceName: '/dev/xvda',
      Ebs: { Encrypted: true, KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^WebVolumeKey/), 'Arn'] }, VolumeType: 'gp3', VolumeSize: 16, DeleteOnTermination: true },
    }]);
    expect(data.KeyName).toBeUndefined();
    expect(data.NetworkInterfaces).toEqual([expect.objectContaining({ AssociatePublicIpAddress: false, Groups: [{ 'Fn::GetAtt': [id.instanceSg, 'GroupId'] }] })]);
    const imageParameter = refId(data.ImageId)!;
    expect(template.toJSON().Parameters[imageParameter]).toEqual({
      Type: 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>',
      Default: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64',
    });
  });

  test('the instance profile role has the Session Manager policy, no AWS managed policy', () => {
    const { template } = byPreset.dev();
    const id = ids(template);
    const lt = onlyResource(template, 'AWS::EC2::LaunchTemplate');
    const profile = template.toJSON().Resources[refId(lt.properties.LaunchTemplateData.IamInstanceProfile.Arn)!];
    expect(profile.Properties.Roles).toEqual([{ Ref: id.role }]);
    const role = template.toJSON().Resources[id.role];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'ec2.amazonaws.com' } })]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const actions = roleStatements(template, id.role).flatMap((s) => s.actions);
    expect(actions).toEqual(expect.arrayContaining(['ssm:UpdateInstanceInformation', 'ssmmessages:OpenDataChannel']));
    expect(actions.filter((a) => /^ssm:GetParameter/.test(a))).toEqual([]);
    // Without a site asset the instances need no S3 access at all.
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  test('instances accept traffic only from the load balancer, on port 80', () => {
    const { template } = byPreset.prod();
    const id = ids(template);
    expect(ingressRules(template, id.instanceSg)).toEqual([{ peer: `sg:${id.loadBalancerSg}`, protocol: 'tcp', fromPort: 80, toPort: 80 }]);
    expect(egressRules(template, id.loadBalancerSg)).toEqual([{ peer: `sg:${id.instanceSg}`, protocol: 'tcp', fromPort: 80, toPort: 80 }]);
    expect(egressRules(template, id.instanceSg)).toEqual([{ peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 443, toPort: 443 }]);
  });

  test.each<[string, boolean, number]>([['HTTP only', false, 80], ['HTTPS', true, 443]])(
    '%s: instanceConnections are the instances (port 80), loadBalancerConnections the public ALB (port %s)', (_name, certificate, port) => {
      const { stack, web } = synthWeb('dev', { certificate });
      const sgIds = (c: ec2.Connections) => c.securityGroups.map((sg) => refId(stack.resolve(sg.securityGroupId)));
      expect(sgIds(web.instanceConnections)).toEqual([refId(stack.resolve(web.instanceSecurityGroup.securityGroupId))]);
      expect(sgIds(web.instanceConnections)[0]).toMatch(/^WebInstanceSecurityGroup/);
      expect(sgIds(web.loadBalancerConnections)).toHaveLength(1);
      expect(sgIds(web.loadBalancerConnections)[0]).toMatch(/^WebLoadBalancerSecurityGroup/);
      expect(web.instanceConnections.defaultPort?.toString()).toBe('80');
      expect(web.loadBalancerConnections.defaultPort?.toString()).toBe(String(port));
      expect(web).not.toHaveProperty('connections');
    });

  test('a rule through instanceConnections lands on the instances, through loadBalancerConnections on the ALB', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const web = new WebTier(stack, 'Web', { vpc, apiEndpoint: 'api.internal.example:80' });
    const monitor = new ec2.SecurityGroup(stack, 'Monitor', { vpc, allowAllOutbound: false });
    web.instanceConnections.allowDefaultPortFrom(monitor);
    web.loadBalancerConnections.allowDefaultPortFrom(ec2.Peer.ipv4('10.1.0.0/16'));
    const template = Template.fromStack(stack);
    const id = ids(template);
    const monitorId = onlyResource(template, 'AWS::EC2::SecurityGroup', 'Monitor').id;
    expect(ingressRules(template, id.instanceSg)).toContainEqual({ peer: `sg:${monitorId}`, protocol: 'tcp', fromPort: 80, toPort: 80 });
    expect(ingressRules(template, id.loadBalancerSg)).toContainEqual({ peer: 'cidr:10.1.0.0/16', protocol: 'tcp', fromPort: 80, toPort: 80 });
    expect(ingressRules(template, id.loadBalancerSg)).not.toContainEqual(expect.objectContaining({ peer: `sg:${monitorId}` }));
  });

  test('target group: NGINX on port 80, health check on /nginx-health', () => {
    const { template } = byPreset.dev();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 80,
      Protocol: 'HTTP',
      TargetType: 'instance',
      HealthCheckPath: '/nginx-health',
      Matcher: { HttpCode: '200' },
    });
  });

  test.each<[PresetName, string, number, number]>([
    ['dev', 't3.micro', 1, 2],
    ['staging', 't3.small', 2, 4],
    ['prod', 'm7i.large', 3, 9],
  ])('%s: %s instances, %i to %i of them', (preset, type, min, max) => {
    const { template } = byPreset[preset]();
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: Match.objectLike({ InstanceType: type }) });
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: String(min), MaxSize: String(max) });
  });

  test('target tracking on CPU (60 %) and on requests per target (1000/min)', () => {
    const { template } = byPreset.dev();
    const id = ids(template);
    template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 2);
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      AutoScalingGroupName: { Ref: id.asg },
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 60 },
    });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      AutoScalingGroupName: { Ref: id.asg },
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: Match.anyValue() },
        TargetValue: 1000,
      },
    });
  });

  test('the scaling targets can be changed', () => {
    const { template } = synthWeb('dev', { cpuTargetUtilizationPercent: 45, requestsPerTargetPerMinute: 250 });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 45 }),
    });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ TargetValue: 250 }),
    });
  });

  test.each<[PresetName, number]>([
    ['dev', 1],
    ['staging', 2],
    ['prod', 3],
  ])('%s: rolling updates wait for signals; creation waits for %i signals', (preset, min) => {
    const { template } = byPreset[preset]();
    const id = ids(template);
    template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      CreationPolicy: { ResourceSignal: { Count: min, Timeout: 'PT15M' } },
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({ WaitOnResourceSignals: true, MaxBatchSize: 1, PauseTime: 'PT15M' }),
      },
      Properties: Match.objectLike({ HealthCheckType: 'ELB' }),
    });
    const script = launchTemplateUserData(template, id.launchTemplate);
    expect(script).toContain(`/opt/aws/bin/cfn-signal --stack Stack --resource ${id.asg} --region us-east-1 -e $exitCode`);
    expect(script.split('\n').slice(0, 2)).toEqual(['#!/bin/bash', 'function exitTrap(){']);
  });

  test('metrics: target response time (average) and target 5xx (sum) over 5 minutes', () => {
    const { web } = byPreset.dev();
    expect(web.metricTargetResponseTime()).toMatchObject({ metricName: 'TargetResponseTime', statistic: 'Average' });
    expect(web.metricTargetResponseTime().period.toMinutes()).toBe(5);
    expect(web.metricTarget5xxCount()).toMatchObject({ metricName: 'HTTPCode_Target_5XX_Count', statistic: 'Sum' });
    expect(web.metricTarget5xxCount().period.toMinutes()).toBe(5);
    expect(web.metricTarget5xxCount({ statistic: 'Maximum' }).statistic).toBe('Maximum');
  });
});

describe('NGINX configuration', () => {
  /** The user data writes exactly `nginxConfig` to /etc/nginx/nginx.conf. */
  test('the user data writes nginxConfig (a literal API endpoint)', () => {
    const { template, web } = synthWeb('dev', { apiEndpoint: '127.0.0.1:8080' });
    const script = launchTemplateUserData(template, ids(template).launchTemplate);
    expect(bootFile(script, '/etc/nginx/nginx.conf')).toBe(web.nginxConfig);
    expect(web.nginxConfig).toContain('server 127.0.0.1:8080 max_fails=3 fail_timeout=10s;');
    // The config is checked before NGINX starts.
    const lines = script.split('\n');
    const written = lines.findIndex((l) => / \| base64 -d > '\/etc\/nginx\/nginx\.conf'$/.test(l));
    expect(written).toBeGreaterThan(0);
    expect(lines.indexOf('nginx -t')).toBeGreaterThan(written);
    expect(lines.indexOf('systemctl enable --now nginx')).toBeGreaterThan(lines.indexOf('nginx -t'));
  });

  test('the user data writes nginxConfig (the internal ALB DNS name token)', () => {
    const { stack, template, web, internal } = synthWithInternalAlb();
    const name = (token: any) => {
      expect(token).toEqual({ 'Fn::GetAtt': [internal, 'DNSName'] });
      return 'internal-alb.example';
    };
    const script = launchTemplateUserData(template, ids(template).launchTemplate, (t) => (refId(t) === internal ? name(t) : `<<${JSON.stringify(t)}>>`));
    const config = flatten(stack.resolve(web.nginxConfig), name);
    expect(bootFile(script, '/etc/nginx/nginx.conf')).toBe(config);
    expect(config).toContain('server internal-alb.example:80 max_fails=3 fail_timeout=10s;');
  });

  test('nginx -t accepts what the instances get', () => {
    // NGINX resolves upstream host names when it loads its configuration, so a name that does not
    // resolve here fails with "host not found in upstream". The internal ALB's DNS name token is
    // therefore replaced by 127.0.0.1 (any resolvable address tests the same configuration).
    const { template, internal } = synthWithInternalAlb();
    const script = launchTemplateUserData(template, ids(template).launchTemplate, (t) => {
      // The agent's configuration names the instance log groups (not part of nginx.conf).
      if (refId(t)?.includes('LogGroup')) return 'log-group';
      if (refId(t) !== internal) throw new Error(`unexpected token in the user data: ${JSON.stringify(t)}`);
      return '127.0.0.1';
    });
    const result = nginxTest(bootFile(script, '/etc/nginx/nginx.conf'));
    expect(result.output).toMatch(/syntax is ok/);
    expect(result.output).toMatch(/test is successful/);
    expect(result.status).toBe(0);
  });

  test('nginx -t accepts the configuration with health check path and exact API paths', () => {
    const { web } = synthWeb('dev', { apiEndpoint: '127.0.0.1:8080', healthCheckPath: '/lb-health', apiExactPaths: ['/readyz', '/version'] });
    expect(web.nginxConfig).toContain('location = /lb-health {');
    expect(web.nginxConfig).toContain('location = /readyz {');
    const result = nginxTest(web.nginxConfig);
    expect(result.status).toBe(0);
  });

  test('nginx -t rejects a broken configuration (the check is real)', () => {
    const { web } = synthWeb('dev', { apiEndpoint: '127.0.0.1:8080' });
    const result = nginxTest(web.nginxConfig.replace('    keepalive 32;\n  }', '    keepalive 32;\n'));
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/emerg/);
  });
});

function synthWithInternalAlb() {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'InternalAlb', { vpc, internetFacing: false });
  const web = new WebTier(stack, 'Web', { vpc, apiEndpoint: `${alb.loadBalancerDnsName}:80`, preset: PRESETS.dev() });
  const template = Template.fromStack(stack);
  const internal = stack.getLogicalId(alb.node.defaultChild as elbv2.CfnLoadBalancer);
  return { stack, web, template, internal };
}

/** The nginx binary: on PATH, or where distributions put it (often outside a non-root PATH). */
function findNginx(): string | undefined {
  const candidates = [
    process.env.NGINX_BIN,
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'nginx')),
    '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/opt/homebrew/bin/nginx',
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

/**
 * Runs `nginx -t` on the configuration as the instance gets it, with the few lines that need root
 * or the instance's file system moved into a temporary directory. Each rewrite must apply exactly
 * once, so a change in the rendered configuration's shape fails here instead of going unchecked.
 */
function nginxTest(config: string): { status: number | null; output: string } {
  const nginx = findNginx();
  if (!nginx) {
    throw new Error('nginx is not installed (e.g. apt-get install -y nginx): the web tier NGINX configuration cannot be checked');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nginx-t-'));
  try {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const rewrites: Array<[RegExp, string]> = [
      // Workers' user: only root may switch user (and Debian has no `nginx` user).
      [/^user nginx;\n/m, ''],
      [/^pid \/run\/nginx\.pid;$/m, `pid ${dir}/nginx.pid;`],
      [/^error_log \/var\/log\/nginx\/error\.log warn;$/m, `error_log ${dir}/error.log warn;`],
      [/^ {2}access_log \/var\/log\/nginx\/access\.log;$/m, [
        `  access_log ${dir}/access.log;`,
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`),
      ].join('\n')],
      // Port 80 needs root.
      [/^ {4}listen 80 default_server;$/m, `    listen 127.0.0.1:${port} default_server;`],
    ];
    let local = config;
    for (const [pattern, replacement] of rewrites) {
      const global = new RegExp(pattern.source, 'gm');
      expect({ pattern: pattern.source, matches: (config.match(global) ?? []).length }).toEqual({ pattern: pattern.source, matches: 1 });
      local = local.replace(pattern, replacement);
    }
    const file = path.join(dir, 'nginx.conf');
    fs.writeFileSync(file, local);
    const result = spawnSync(nginx, ['-t', '-p', `${dir}/`, '-c', file], { encoding: 'utf8', timeout: 30_000 });
    if (result.error) throw result.error;
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
