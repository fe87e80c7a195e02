import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { NetworkTier, Preset, WebTier } from '../src';
import { ENV } from './support/stacks';
import { onlyResource, resourcesOfType } from './support/template';
import { EdgeDistribution } from '../src/edge/edge';
import { EdgeDistributionProps } from '../src/edge/edge-props';

const CERT = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/11111111-2222-3333-4444-555555555555`;
const PL = 'pl-3b927c52';

interface Options {
  readonly https?: boolean;
  readonly region?: string | null;
  readonly edge?: Partial<EdgeDistributionProps>;
  readonly zone?: boolean;
}

function build(options: Options = {}) {
  const env = options.region === null ? undefined : { ...ENV, region: options.region ?? 'us-east-1' };
  const stack = new Stack(new App(), 'Stack', { env });
  const network = new NetworkTier(stack, 'Network', { preset: Preset.staging() });
  const web = new WebTier(stack, 'Web', {
    vpc: network.vpc,
    instanceSubnets: network.webSubnets,
    loadBalancerSubnets: network.publicSubnets,
    apiEndpoint: 'api.internal.example:80',
    preset: Preset.staging(),
    allowHttpOnly: true,
    certificate: options.https ? acm.Certificate.fromCertificateArn(stack, 'AlbCert', CERT(env?.region ?? 'us-east-1')) : undefined,
  });
  const hostedZone = options.zone
    ? route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' })
    : undefined;
  const edge = new EdgeDistribution(stack, 'Edge', { web, preset: Preset.staging(), originPrefixListId: PL, hostedZone, ...options.edge });
  return { stack, web, edge, template: () => Template.fromStack(stack) };
}

const distributionOf = (t: Template) => onlyResource(t, 'AWS::CloudFront::Distribution').properties.DistributionConfig;

describe('viewers', () => {
  test('HTTPS with a us-east-1 certificate, TLS 1.2 2021, HTTP redirected, the domain aliased to CloudFront', () => {
    const { template } = build({ https: true, zone: true, edge: { domainName: 'shop.example.com' } });
    const config = distributionOf(template());
    expect(config.Aliases).toEqual(['shop.example.com']);
    expect(config.ViewerCertificate).toMatchObject({ MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.CacheBehaviors[0].ViewerProtocolPolicy).toBe('redirect-to-https');
    template().hasResourceProperties('AWS::CertificateManager::Certificate', { DomainName: 'shop.example.com' });
    template().hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'shop.example.com.', Type: 'A', AliasTarget: Match.objectLike({ HostedZoneId: Match.anyValue() }),
    });
  });

  test('without a domain: the cloudfront.net name (HTTP-only web tier), with a warning about the HTTP origin', () => {
    const { stack, edge, template } = build();
    expect(distributionOf(template()).Aliases).toBeUndefined();
    expect(stack.resolve(edge.siteUrl)).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^EdgeDistribution/), 'DomainName'] }]] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('edgeHttpOrigin'))).toHaveLength(1);
  });
});

describe('origin', () => {
  test.each<[boolean, string, number]>([[true, 'https-only', 443], [false, 'http-only', 80]])('web HTTPS %s: %s to the load balancer on %i', (https, policy, port) => {
    const { template } = build({ https, edge: https ? { domainName: 'shop.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', CERT('us-east-1')) } : {} });
    const [origin] = distributionOf(template()).Origins;
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: policy, OriginSSLProtocols: ['TLSv1.2'] });
    expect(origin.OriginCustomHeaders).toEqual([{ HeaderName: 'X-Origin-Verify', HeaderValue: expect.objectContaining({ 'Fn::Join': expect.anything() }) }]);
    // The load balancer admits the origin-facing prefix list on the origin port only.
    const sg = resourcesOfType(template(), 'AWS::EC2::SecurityGroup').find((s) => /WebLoadBalancerSecurityGroup/.test(s.id))!;
    const fromPl = (sg.properties.SecurityGroupIngress ?? []).filter((r: any) => r.SourcePrefixListId);
    const separate = resourcesOfType(template(), 'AWS::EC2::SecurityGroupIngress').filter((r) => r.properties.SourcePrefixListId).map((r) => r.properties);
    expect([...fromPl, ...separate]).toEqual([expect.objectContaining({ SourcePrefixListId: PL, FromPort: port, ToPort: port, IpProtocol: 'tcp' })]);
  });

  test('the listener forwards only requests with the secret header; the default answer is 403', () => {
    const { template } = build();
    const rule = onlyResource(template(), 'AWS::ElasticLoadBalancingV2::ListenerRule').properties;
    expect(rule.Conditions).toEqual([{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Origin-Verify', Values: [expect.anything()] } }]);
    expect(rule.Actions[0].Type).toBe('forward');
    const secretId = onlyResource(template(), 'AWS::SecretsManager::Secret').id;
    expect(JSON.stringify(rule.Conditions)).toContain(secretId);
    const [origin] = distributionOf(template()).Origins;
    expect(JSON.stringify(origin.OriginCustomHeaders)).toContain(secretId);
    const listeners = resourcesOfType(template(), 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listeners.map((l) => l.properties.DefaultActions)).toContainEqual([
      { Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403', ContentType: 'text/plain', MessageBody: 'Forbidden' } },
    ]);
  });
});

test('cache: static files cached, /api/* not cached with everything forwarded', () => {
  const config = distributionOf(build().template());
  expect(config.DefaultCacheBehavior).toMatchObject({ CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6', AllowedMethods: ['GET', 'HEAD', 'OPTIONS'], Compress: true });
  expect(config.CacheBehaviors).toEqual([expect.objectContaining({
    PathPattern: '/api/*',
    CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled
    OriginRequestPolicyId: '216adef6-5c7f-47e4-b989-5492eafa07d3', // AllViewer
    AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
  })]);
});

describe('WAF', () => {
  test('us-east-1: a CLOUDFRONT-scope web ACL with logging', () => {
    const { template } = build();
    const acls = resourcesOfType(template(), 'AWS::WAFv2::WebACL').filter((a) => a.properties.Scope === 'CLOUDFRONT');
    expect(acls).toHaveLength(1);
    const [acl] = acls;
    expect(acl.id).toMatch(/^EdgeWebAcl/);
    expect(distributionOf(template()).WebACLId).toEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
    const logging = resourcesOfType(template(), 'AWS::WAFv2::LoggingConfiguration').map((l) => l.properties.ResourceArn);
    expect(logging).toContainEqual({ 'Fn::GetAtt': [acl.id, 'Arn'] });
  });

  test('unknown region: the ACL is created with a deploy-time us-east-1 assertion', () => {
    const rules = build({ region: null }).template().toJSON().Rules;
    expect(JSON.stringify(rules)).toContain('us-east-1');
  });

  test('another region: webAclArn or waf: false is required', () => {
    expect(() => build({ region: 'eu-west-1' })).toThrow(/^waf \(true\) needs webAclArn in a stack outside us-east-1 \(eu-west-1\)/);
    const arn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/abc';
    const { template } = build({ region: 'eu-west-1', edge: { webAclArn: arn } });
    expect(distributionOf(template()).WebACLId).toBe(arn);
    expect(resourcesOfType(template(), 'AWS::WAFv2::WebACL').filter((a) => a.properties.Scope === 'CLOUDFRONT')).toHaveLength(0);
  });
});

test('waf: false leaves the distribution without a web ACL; geoRestriction reaches the distribution', () => {
  const { template } = build({ edge: { waf: false, geoRestriction: cloudfront.GeoRestriction.allowlist('DE', 'FR') } });
  const config = distributionOf(template());
  expect(config.WebACLId).toBeUndefined();
  expect(config.Restrictions).toEqual({ GeoRestriction: { RestrictionType: 'whitelist', Locations: ['DE', 'FR'] } });
});

test('access logs: a versioned, KMS-encrypted bucket with ACLs enabled for CloudFront standard logging', () => {
  const { template } = build();
  const config = distributionOf(template());
  const bucket = resourcesOfType(template(), 'AWS::S3::Bucket').find((b) => b.id.startsWith('EdgeLogBucket'))!;
  expect(config.Logging).toEqual({ Bucket: { 'Fn::GetAtt': [bucket.id, 'RegionalDomainName'] }, Prefix: 'cloudfront/' });
  expect(bucket.properties).toMatchObject({
    OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
    VersioningConfiguration: { Status: 'Enabled' },
    BucketEncryption: { ServerSideEncryptionConfiguration: [expect.objectContaining({ ServerSideEncryptionByDefault: expect.objectContaining({ SSEAlgorithm: 'aws:kms' }) })] },
    LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'cloudfront-log-bucket/' }),
  });
  expect(bucket.properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(90);
});

test.each<[string, Options, RegExp]>([
  ['HTTPS web tier without a domain', { https: true }, /^domainName \(undefined\) is required when the web tier has a certificate/],
  ['a certificate outside us-east-1', { edge: { domainName: 'shop.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'C', CERT('eu-west-1')) } },
    /^certificate \('arn:aws:acm:eu-west-1:.*'\) must be a certificate in us-east-1/],
  ['a domain without certificate or zone', { edge: { domainName: 'shop.example.com' } }, /^certificate \(undefined\) is required with domainName/],
  ['a bad prefix list', { edge: { originPrefixListId: 'sg-123' } }, /^originPrefixListId \('sg-123'\) must be a prefix list ID/],
  ['no prefix list in an env-agnostic stack', { region: null, edge: { originPrefixListId: undefined } }, /^originPrefixListId \(undefined\) is required in a stack without an account and region/],
  ['bad log expiration', { edge: { accessLogExpirationDays: 0 } }, /^accessLogExpirationDays \(0\) must be an integer from 1 to 3650/],
])('invalid: %s', (_, options, message) => {
  expect(() => build(options)).toThrow(message);
});
