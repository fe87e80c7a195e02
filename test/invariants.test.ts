import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AppSource, NetworkTier, Preset, ThreeTierPlatform } from '../src';

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

/** The actions IAM accepts only with '*' (no resource-level permissions) that the instances need for Session Manager. */
const SESSION_CHANNEL_ACTIONS = ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'];
/**
 * The other actions without resource-level permissions the platform grants on '*', each acknowledged
 * in the compliance registry: the CloudWatch agent's (PutMetricData limited to its namespace by a
 * condition) and aws-cdk-lib's LogRetention function's (the RDS log groups' retention).
 */
const OTHER_STAR_ACTIONS = ['cloudwatch:PutMetricData', 'ec2:DescribeTags', 'logs:DeleteRetentionPolicy', 'logs:PutRetentionPolicy'];

/** Every Allow statement of every identity policy: policies, managed policies and roles' inline policies. */
function allowStatements(t: any): any[] {
  const documents = [
    ...['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) => ofType(t, type).map(([, p]) => p.Properties.PolicyDocument)),
    ...ofType(t, 'AWS::IAM::Role').flatMap(([, r]) => (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument)),
  ];
  return documents.flatMap((d) => asArray<any>(d.Statement)).filter((s) => s.Effect === 'Allow');
}

/** An IAM action (with its * and ? wildcards) as a regular expression. */
const actionPattern = (action: string) => new RegExp(`^${action.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

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

  test("'*' resources only for actions without resource-level permissions (Session Manager channels, the CloudWatch agent, log retention); no ssm:GetParameter*", () => {
    const onStar: string[] = [];
    for (const s of allowStatements(t())) {
      if (asArray(s.Resource).includes('*')) onStar.push(...asArray<string>(s.Action));
    }
    expect([...new Set(onStar)].sort()).toEqual([...SESSION_CHANNEL_ACTIONS, ...OTHER_STAR_ACTIONS].sort());
    const putMetricData = allowStatements(t()).filter((s) => asArray<string>(s.Action).includes('cloudwatch:PutMetricData'));
    expect(putMetricData.length).toBeGreaterThan(0);
    for (const s of putMetricData) expect(s.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'CWAgent' } });
    const getParameter = allowStatements(t()).flatMap((s) => asArray<string>(s.Action))
      .filter((a) => ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'].some((x) => actionPattern(a).test(x)));
    expect(getParameter).toEqual([]);
  });

  test('instance roles: no AWS managed policy; Session Manager through a customer managed policy of its own', () => {
    const resources = t().Resources;
    const roles = ofType(t(), 'AWS::EC2::LaunchTemplate').map(([, lt]) => {
      const profile = resources[lt.Properties.LaunchTemplateData.IamInstanceProfile.Arn['Fn::GetAtt'][0]];
      return profile.Properties.Roles[0].Ref as string;
    });
    expect(roles.length).toBe(2);
    for (const role of roles) {
      expect(resources[role].Properties.ManagedPolicyArns).toBeUndefined();
      const sessionManager = ofType(t(), 'AWS::IAM::ManagedPolicy')
        .filter(([id, p]) => id.includes('SessionManagerPolicy') && p.Properties.Roles.some((r: any) => r.Ref === role));
      expect(sessionManager.length).toBe(1);
      expect(sessionManager[0][1].Properties.PolicyDocument.Statement).toEqual([
        {
          Sid: 'AgentHeartbeat',
          Effect: 'Allow',
          Action: 'ssm:UpdateInstanceInformation',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':instance/*']] },
        },
        { Sid: 'SessionChannels', Effect: 'Allow', Action: SESSION_CHANNEL_ACTIONS, Resource: '*' },
      ]);
    }
  });

  test('the credentials secret outlives the database whenever the database leaves a snapshot', () => {
    const [[, db]] = ofType(t(), 'AWS::RDS::DBInstance');
    const [[, secret]] = ofType(t(), 'AWS::SecretsManager::Secret');
    expect(secret.DeletionPolicy).toBe(db.DeletionPolicy === 'Delete' ? 'Delete' : 'Retain');
  });

  test('no inline policies: no AWS::IAM::Policy and no role with Policies, custom resource provider roles included', () => {
    expect(ofType(t(), 'AWS::IAM::Policy').map(([id]) => id)).toEqual([]);
    expect(ofType(t(), 'AWS::IAM::Role').filter(([, r]) => r.Properties.Policies !== undefined).map(([id]) => id)).toEqual([]);
  });

  test("the default security group provider's permissions moved into a managed policy its function waits for", () => {
    const [[roleId]] = ofType(t(), 'AWS::IAM::Role').filter(([id]) => id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProviderRole'));
    const moved = ofType(t(), 'AWS::IAM::ManagedPolicy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    expect(moved.length).toBe(1);
    const [[policyId, policy]] = moved;
    const [vpcId] = ofType(t(), 'AWS::EC2::VPC').map(([id]) => id);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([expect.objectContaining({
      Effect: 'Allow',
      Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:AuthorizeSecurityGroupEgress', 'ec2:RevokeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
      Resource: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:us-east-1:123456789012:security-group/', { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] }]] }],
    })]);
    const handlers = ofType(t(), 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Role?.['Fn::GetAtt']?.[0] === roleId);
    expect(handlers.length).toBe(1);
    expect(handlers[0][1].DependsOn).toEqual(expect.arrayContaining([roleId, policyId]));
  });
});

describe('the inline-policy check can fail', () => {
  const providerRoles = (stack: Stack) => Object.entries<any>(Template.fromStack(stack).toJSON().Resources)
    .filter(([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('CustomVpcRestrictDefaultSGCustomResourceProviderRole'));

  test("a VPC alone (aws-cdk-lib's default) gives its provider role an inline policy", () => {
    const stack = new Stack(new App(), 'Plain', { env: { account: '123456789012', region: 'us-east-1' } });
    new ec2.Vpc(stack, 'Vpc', { natGateways: 0, restrictDefaultSecurityGroup: true });
    const roles = providerRoles(stack);
    expect(roles.length).toBe(1);
    expect(roles[0][1].Properties.Policies).toEqual([expect.objectContaining({ PolicyName: 'Inline' })]);
  });

  test("a NetworkTier moves the shared provider's inline policy, the statements of another VPC in the stack included", () => {
    const stack = new Stack(new App(), 'Mixed', { env: { account: '123456789012', region: 'us-east-1' } });
    new NetworkTier(stack, 'Network');
    new NetworkTier(stack, 'Second', { cidr: '10.1.0.0/16' });
    new ec2.Vpc(stack, 'Vpc', { natGateways: 0, restrictDefaultSecurityGroup: true });
    const roles = providerRoles(stack);
    expect(roles.length).toBe(1);
    expect(roles[0][1].Properties.Policies).toBeUndefined();
    const policies = Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy', { Properties: { Roles: [{ Ref: roles[0][0] }] } });
    expect(Object.values<any>(policies).map((p) => p.Properties.PolicyDocument.Statement.length)).toEqual([3]);
  });
});
