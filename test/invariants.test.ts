import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AppSource, Preset, ThreeTierPlatform } from '../src';

// Checks that must hold in every preset, over every resource of the synthesized template.
const CASES: Array<[string, () => Preset, boolean]> = [
  ['dev', Preset.dev, false],
  ['staging', Preset.staging, false],
  ['prod', Preset.prod, true],
];

const templates = new Map<string, any>();
function template(name: string, preset: () => Preset, domain: boolean): any {
  if (!templates.has(name)) {
    const stack = new Stack(new App(), 'Invariants', { env: { account: '123456789012', region: 'us-east-1' } });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'example.com' });
    new ThreeTierPlatform(stack, 'Platform', {
      preset: preset(),
      app: { source: AppSource.fromInline("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);") },
      web: domain ? { domainName: 'shop.example.com', hostedZone } : { allowHttpOnly: true },
      applicationBucket: { seedAssetPath: __dirname, seedPrefix: 'seed/' },
    });
    templates.set(name, Template.fromStack(stack).toJSON());
  }
  return templates.get(name);
}

const ofType = (t: any, type: string) => Object.entries<any>(t.Resources).filter(([, r]) => r.Type === type);
const asArray = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

describe.each(CASES)('%s preset', (name, preset, domain) => {
  const t = () => template(name, preset, domain);

  test('IMDSv2 required (hop limit 1), no key pair and no public IP on every launch template', () => {
    const lts = ofType(t(), 'AWS::EC2::LaunchTemplate');
    expect(lts.length).toBe(2);
    for (const [, lt] of lts) {
      const data = lt.Properties.LaunchTemplateData;
      expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1 });
      expect(data.KeyName).toBeUndefined();
      for (const ni of data.NetworkInterfaces ?? []) expect(ni.AssociatePublicIpAddress).toBe(false);
      for (const bd of data.BlockDeviceMappings) expect(bd.Ebs).toMatchObject({ Encrypted: true, VolumeType: 'gp3' });
    }
  });

  test('no instance has a key pair; only a NAT instance (dev) has a public IP', () => {
    for (const [id, i] of ofType(t(), 'AWS::EC2::Instance')) {
      expect(i.Properties.KeyName).toBeUndefined();
      expect(id).toMatch(/NatInstance/);
    }
  });

  test('every bucket blocks public access and denies requests without TLS', () => {
    const buckets = ofType(t(), 'AWS::S3::Bucket');
    expect(buckets.length).toBe(2);
    const policies = ofType(t(), 'AWS::S3::BucketPolicy').map(([, p]) => p.Properties);
    for (const [id, b] of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      });
      expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration.length).toBeGreaterThan(0);
      const policy = policies.find((p) => p.Bucket.Ref === id);
      const denies = policy.PolicyDocument.Statement.filter((s: any) => s.Effect === 'Deny');
      expect(denies.some((s: any) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
    }
  });

  test('database, secret, log groups and topics are encrypted with KMS', () => {
    for (const [, db] of ofType(t(), 'AWS::RDS::DBInstance')) {
      expect(db.Properties.StorageEncrypted).toBe(true);
      expect(db.Properties.KmsKeyId).toBeDefined();
      expect(db.Properties.PubliclyAccessible).toBe(false);
    }
    for (const [, s] of ofType(t(), 'AWS::SecretsManager::Secret')) expect(s.Properties.KmsKeyId).toBeDefined();
    for (const [, g] of ofType(t(), 'AWS::Logs::LogGroup')) expect(g.Properties.KmsKeyId).toBeDefined();
    for (const [, topic] of ofType(t(), 'AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    for (const [, k] of ofType(t(), 'AWS::KMS::Key')) expect(k.Properties.EnableKeyRotation).toBe(true);
  });

  test("no IAM policy grants '*' resources", () => {
    const offending: string[] = [];
    for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
      for (const [id, p] of ofType(t(), type)) {
        for (const s of asArray<any>(p.Properties.PolicyDocument.Statement)) {
          if (s.Effect === 'Allow' && asArray(s.Resource).includes('*')) offending.push(`${id}: ${asArray(s.Action).join(',')}`);
        }
      }
    }
    for (const [id, r] of ofType(t(), 'AWS::IAM::Role')) {
      for (const policy of r.Properties.Policies ?? []) {
        // aws-cdk-lib's provider of restrictDefaultSecurityGroup carries its policy inline; it is
        // checked like the others: no '*' resources.
        if (!id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProviderRole')) offending.push(`${id}: inline policy`);
        for (const s of asArray<any>(policy.PolicyDocument.Statement)) {
          if (s.Effect === 'Allow' && asArray(s.Resource).includes('*')) offending.push(`${id}: ${asArray(s.Action).join(',')}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  test('the credentials secret outlives the database whenever the database leaves a snapshot', () => {
    const [[, db]] = ofType(t(), 'AWS::RDS::DBInstance');
    const [[, secret]] = ofType(t(), 'AWS::SecretsManager::Secret');
    expect(secret.DeletionPolicy).toBe(db.DeletionPolicy === 'Delete' ? 'Delete' : 'Retain');
  });

  test('no inline role policies: permissions are in customer managed policies', () => {
    expect(ofType(t(), 'AWS::IAM::Policy').map(([id]) => id)).toEqual([]);
  });
});
