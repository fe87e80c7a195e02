import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { AppTier, AppUserSql, DataTier, DataTierProps, renderAppUserSql } from '../src';
import { API_SOURCE, newStack, synthPlatform, SynthesizedPlatform } from './support/stacks';
import {
  allIdentityStatements, bootFile, egressRules, ingressRules, launchTemplateUserData, onlyResource, refId, resourcesOfType, roleStatements, subnetsOf,
} from './support/template';
import { handler } from '../src/data/app-user.lambda';
import { quoteSqlIdentifier, quoteSqlString } from '../src/private/sql';

// The handler's AWS SDK and database driver, replaced by recorders.
const mockSend = jest.fn();
const mockCreateConnection = jest.fn();
jest.mock('@aws-sdk/client-secrets-manager', () => ({
  SecretsManagerClient: class {
    public send(command: unknown) {
      return mockSend(command);
    }
    public destroy() {}
  },
  GetSecretValueCommand: class {
    constructor(public readonly input: unknown) {}
  },
}));
jest.mock('mysql2/promise', () => ({ createConnection: (options: unknown) => mockCreateConnection(options) }));

const IAM_IDENTIFICATION = "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'";
const GRANT_APP = 'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES, CREATE VIEW, SHOW VIEW ON `app`.* TO \'app\'@\'%\'';

describe('renderAppUserSql', () => {
  test('IAM authentication, TLS required, grants on the one database: exactly these statements', () => {
    expect(renderAppUserSql({ username: 'app', databaseName: 'app' })).toEqual([
      `CREATE USER IF NOT EXISTS 'app'@'%' ${IAM_IDENTIFICATION} REQUIRE SSL`,
      `ALTER USER 'app'@'%' ${IAM_IDENTIFICATION} REQUIRE SSL`,
      GRANT_APP,
    ]);
    expect(AppUserSql.render({ username: 'app', databaseName: 'app' })).toEqual(renderAppUserSql({ username: 'app', databaseName: 'app' }));
  });

  test('the privileges: what the store migrations need, and no DROP, GRANT OPTION, ALL or global privilege', () => {
    expect(AppUserSql.PRIVILEGES).toEqual([
      'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'INDEX', 'REFERENCES',
      'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'CREATE VIEW', 'SHOW VIEW',
    ]);
    const grants = renderAppUserSql({ username: 'shop_api', databaseName: 'Shop2' }).filter((s) => s.startsWith('GRANT'));
    expect(grants).toEqual([`GRANT ${AppUserSql.PRIVILEGES.join(', ')} ON \`Shop2\`.* TO 'shop_api'@'%'`]);
    expect(grants[0]).not.toMatch(/DROP|GRANT OPTION|ALL|SUPER|FILE|PROCESS|\*\.\*/);
    // The store app's migrations: CREATE TABLE with a FOREIGN KEY and INSERTs, nothing dropped.
    const migrations = fs.readFileSync(path.join(__dirname, '..', 'integ', 'store-app', 'src', 'migrations.ts'), 'utf8');
    expect(migrations).toMatch(/CREATE TABLE IF NOT EXISTS/);
    expect(migrations).toMatch(/FOREIGN KEY .* REFERENCES/);
    expect(migrations).not.toMatch(/\b(DROP|TRUNCATE|RENAME)\b/i);
  });

  test('a password for test servers changes the identification only: the grants are identical', () => {
    const withIam = renderAppUserSql({ username: 'store', databaseName: 'store' });
    const password = renderAppUserSql({ username: 'store', databaseName: 'store', password: 'pw-0123456789abcdef' });
    expect(password).toEqual([
      "CREATE USER IF NOT EXISTS 'store'@'%' IDENTIFIED BY 'pw-0123456789abcdef' REQUIRE SSL",
      "ALTER USER 'store'@'%' IDENTIFIED BY 'pw-0123456789abcdef' REQUIRE SSL",
      withIam[2],
    ]);
    expect(password.map((s) => s.replace("IDENTIFIED BY 'pw-0123456789abcdef'", IAM_IDENTIFICATION))).toEqual(withIam);
  });

  test.each(['a', 'App', 'shop_api_2', `a${'b'.repeat(31)}`])('accepts the user name %s', (username) => {
    expect(renderAppUserSql({ username, databaseName: 'app' })[0]).toContain(`'${username}'@'%'`);
  });

  test.each([
    ["app'@'%", /must start with a letter and hold 1 to 32 letters/],
    ["app' IDENTIFIED BY 'x", /must start with a letter/],
    ['app`', /must start with a letter/],
    ['app; DROP DATABASE app', /must start with a letter/],
    ['app\\', /must start with a letter/],
    ['app\0', /must start with a letter/],
    ['app\n', /must start with a letter/],
    ['app user', /must start with a letter/],
    ['аpp', /must start with a letter/], // Cyrillic a
    ['', /must start with a letter/],
    ['1app', /must start with a letter/],
    [`a${'b'.repeat(32)}`, /must start with a letter/],
    ['root', /must not be a name MySQL or RDS reserves/],
    ['ROOT', /must not be a name MySQL or RDS reserves/],
    ['rdsadmin', /must not be a name MySQL or RDS reserves/],
    ['rds_anything', /must not be a name MySQL or RDS reserves/],
    ['mysql_sys', /must not be a name MySQL or RDS reserves/],
    ['PUBLIC', /must not be a name MySQL or RDS reserves/],
  ])('refuses the user name %j', (username, message) => {
    expect(() => renderAppUserSql({ username, databaseName: 'app' })).toThrow(message);
    expect(() => renderAppUserSql({ username, databaseName: 'app' })).toThrow(/^username \(/);
  });

  test.each([
    ['app`.* TO x; --', /databaseName \(.*\) must start with a letter and hold 1 to 64/],
    ['app;', /must start with a letter/],
    ['a-b', /must start with a letter/],
    ['', /must start with a letter/],
    [`a${'b'.repeat(64)}`, /must start with a letter/],
    ['mysql', /must not be a system schema/],
    ['INFORMATION_SCHEMA', /must not be a system schema/],
    ['performance_schema', /must not be a system schema/],
    ['sys', /must not be a system schema/],
  ])('refuses the database name %j', (databaseName, message) => {
    expect(() => renderAppUserSql({ username: 'app', databaseName })).toThrow(message);
  });

  test.each(["pw-with-'quote", 'short', 'with space 123', 'back\\slash12', 'x'.repeat(129)])('refuses the password %j without echoing it', (password) => {
    expect(() => renderAppUserSql({ username: 'app', databaseName: 'app', password })).toThrow(/^password must hold 8 to 128 letters, digits or _ \. ~ -$/);
  });

  test('non-string input is refused, not coerced', () => {
    expect(() => renderAppUserSql({ username: 42 as unknown as string, databaseName: 'app' })).toThrow(/username \(42\)/);
    expect(() => renderAppUserSql({ username: 'app', databaseName: undefined as unknown as string })).toThrow(/databaseName \(undefined\)/);
  });

  test('quoting: backticks and quotes are doubled, backslashes escaped, NUL refused', () => {
    expect(quoteSqlIdentifier('app')).toBe('`app`');
    expect(quoteSqlIdentifier('a`b')).toBe('`a``b`');
    expect(quoteSqlIdentifier('`; DROP DATABASE x; --')).toBe('```; DROP DATABASE x; --`');
    expect(() => quoteSqlIdentifier('')).toThrow(/identifier/);
    expect(() => quoteSqlIdentifier('a\0b')).toThrow(/without NUL/);
    expect(() => quoteSqlIdentifier('x'.repeat(65))).toThrow(/1 to 64 characters/);
    expect(quoteSqlString('app')).toBe("'app'");
    expect(quoteSqlString("it's")).toBe("'it''s'");
    expect(quoteSqlString("\\' OR 1=1 --")).toBe("'\\\\'' OR 1=1 --'");
    expect(() => quoteSqlString('a\0')).toThrow(/without NUL/);
  });
});

/** A data tier in a VPC with isolated subnets only, in 2 AZs (standalone: it brings its endpoint). */
function synthData(props: Partial<DataTierProps> = {}, extend?: (stack: Stack, data: DataTier) => void) {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  const data = new DataTier(stack, 'Data', { vpc, ...props });
  extend?.(stack, data);
  return { stack, data, template: Template.fromStack(stack) };
}

const fnSubnetGroups = (template: Template, fnId: string) => {
  const subnets = subnetsOf(template);
  const ids = template.toJSON().Resources[fnId].Properties.VpcConfig.SubnetIds.map(refId);
  return ids.map((id: string) => subnets.find((s) => s.id === id)?.group);
};

describe('data tier: the app-user custom resource', () => {
  let standalone: ReturnType<typeof synthData>;
  beforeAll(() => {
    standalone = synthData();
  });
  const ids = (template: Template, prefix = 'Data') => ({
    fn: onlyResource(template, 'AWS::Lambda::Function', `${prefix}AppUserFunction`).id,
    sg: onlyResource(template, 'AWS::EC2::SecurityGroup', `${prefix}AppUserSecurityGroup`).id,
    dbSg: onlyResource(template, 'AWS::EC2::SecurityGroup', `${prefix}SecurityGroup`).id,
    role: onlyResource(template, 'AWS::IAM::Role', `${prefix}AppUserFunctionRole`).id,
    providerRole: onlyResource(template, 'AWS::IAM::Role', `${prefix}AppUserProviderRole`).id,
    resource: onlyResource(template, 'Custom::AppUser').id,
  });

  test('Custom::AppUser: the master secret, the endpoint, the database and the user; after the database and the rotation schedule', () => {
    const { template, data, stack } = standalone;
    const id = ids(template);
    const resource = template.toJSON().Resources[id.resource];
    const framework = onlyResource(template, 'AWS::Lambda::Function', 'DataAppUserProviderframeworkonEvent');
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [framework.id, 'Arn'] },
      SecretArn: stack.resolve(data.secret.secretArn),
      Host: { 'Fn::GetAtt': [onlyResource(template, 'AWS::RDS::DBInstance').id, 'Endpoint.Address'] },
      Port: '3306',
      DatabaseName: 'app',
      Username: 'app',
      SqlDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(resource.DependsOn).toEqual(expect.arrayContaining([
      onlyResource(template, 'AWS::RDS::DBInstance').id,
      onlyResource(template, 'AWS::SecretsManager::RotationSchedule').id,
    ]));
    expect(framework.properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [id.fn, 'Arn'] });
    expect(data.appUsername).toBe('app');
    expect(stack.resolve(data.appUserResource.ref)).toEqual({ Ref: id.resource });
  });

  test('the SQL digest changes with the rendered SQL (a new user name runs it again)', () => {
    const digest = (t: Template) => t.toJSON().Resources[onlyResource(t, 'Custom::AppUser').id].Properties.SqlDigest;
    expect(digest(synthData({ appUsername: 'shop_api' }).template)).not.toEqual(digest(standalone.template));
  });

  test('the function: bundled handler on Node.js 22, in the database subnets, its own security group', () => {
    const { template } = standalone;
    const id = ids(template);
    const fn = template.toJSON().Resources[id.fn].Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', Timeout: 180 });
    expect(fnSubnetGroups(template, id.fn)).toEqual(['Data', 'Data']);
    expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [id.sg, 'GroupId'] }]);
  });

  test('its security group: no ingress; egress only to the database port and to the Secrets Manager endpoint on 443', () => {
    const { template } = standalone;
    const id = ids(template);
    const endpointSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'DataSecretsManagerEndpointSecurityGroup').id;
    expect(ingressRules(template, id.sg)).toEqual([]);
    const byPeer = (a: { peer: string }, b: { peer: string }) => a.peer.localeCompare(b.peer);
    expect(egressRules(template, id.sg).sort(byPeer)).toEqual([
      { peer: `sg:${id.dbSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 },
      { peer: `sg:${endpointSg}`, protocol: 'tcp', fromPort: 443, toPort: 443 },
    ].sort(byPeer));
    expect(ingressRules(template, id.dbSg)).toContainEqual({ peer: `sg:${id.sg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 });
    expect(ingressRules(template, endpointSg)).toContainEqual({ peer: `sg:${id.sg}`, protocol: 'tcp', fromPort: 443, toPort: 443 });
  });

  test('roles: no inline policies; the function reads the master secret, the provider invokes only the function', () => {
    const { template, stack, data } = standalone;
    const id = ids(template);
    const resources = template.toJSON().Resources;
    for (const role of [id.role, id.providerRole]) expect(resources[role].Properties.Policies).toBeUndefined();
    const managedArns = (role: string) => JSON.stringify(resources[role].Properties.ManagedPolicyArns);
    expect(managedArns(id.role)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    expect(managedArns(id.providerRole)).toContain('service-role/AWSLambdaBasicExecutionRole');
    const secret = stack.resolve(data.secret.secretArn);
    expect(roleStatements(template, id.role)).toEqual([
      expect.objectContaining({ effect: 'Allow', actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secret] }),
    ]);
    const fnArn = { 'Fn::GetAtt': [id.fn, 'Arn'] };
    const providerActions = roleStatements(template, id.providerRole).map((s) => ({ actions: s.actions, resources: s.resources }));
    expect(providerActions).toEqual(expect.arrayContaining([
      { actions: ['lambda:InvokeFunction'], resources: [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }] },
      { actions: ['lambda:GetFunction'], resources: [fnArn] },
    ]));
    expect(providerActions.flatMap((s) => s.actions).filter((a) => !a.startsWith('lambda:'))).toEqual([]);
  });

  test('rotation off: the endpoint still serves the app-user function', () => {
    const { template, data } = synthData({ rotation: false });
    expect(data.secretsManagerEndpoint).toBeDefined();
    const id = ids(template);
    expect(fnSubnetGroups(template, id.fn)).toEqual(['Data', 'Data']);
    expect(template.toJSON().Resources[id.resource].DependsOn).not.toContain(expect.stringMatching(/RotationSchedule/));
  });

  test('rotationSubnets with NAT and no endpoint: the function follows the rotation function, HTTPS through NAT', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        { name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
    });
    new DataTier(stack, 'Data', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      rotationSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    const template = Template.fromStack(stack);
    const id = ids(template);
    expect(fnSubnetGroups(template, id.fn)).toEqual(['Private', 'Private']);
    const byPeer = (a: { peer: string }, b: { peer: string }) => a.peer.localeCompare(b.peer);
    expect(egressRules(template, id.sg).sort(byPeer)).toEqual([
      { peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 443, toPort: 443 },
      { peer: `sg:${id.dbSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 },
    ]);
    const rotationSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'DataRotationSecurityGroup').id;
    expect(egressRules(template, id.sg).sort(byPeer)).toEqual(egressRules(template, rotationSg).sort(byPeer));
  });

  test.each<[string, Partial<DataTierProps>, RegExp]>([
    ['the master user', { appUsername: 'dbadmin' }, /appUsername \('dbadmin'\) must differ from masterUsername \('dbadmin'\).* in Stack\/Data$/],
    ['the master user, other case', { masterUsername: 'Owner', appUsername: 'owner' }, /appUsername \('owner'\) must differ from masterUsername/],
    ['root', { appUsername: 'root' }, /appUsername \('root'\) must not be a name MySQL or RDS reserves .* in Stack\/Data$/],
    ['a quote', { appUsername: "app'" }, /appUsername \('app''\) must start with a letter and hold 1 to 32 letters, digits or underscores in Stack\/Data$/],
    ['a token', { appUsername: Lazy.string({ produce: () => 'app' }) }, /appUsername \(.*\) must be a literal/],
  ])('appUsername: %s is refused at synth', (_name, props, message) => {
    expect(() => synthData(props)).toThrow(message);
  });

  test('grantConnect: rds-db:connect as the app user by default; grantMasterSecretRead reads the master secret', () => {
    let roleId = '';
    const { template, stack, data } = synthData({ appUsername: 'shop_api' }, (s, d) => {
      const role = new iam.Role(s, 'Reader', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      roleId = s.getLogicalId(role.node.defaultChild as iam.CfnRole);
      d.grantConnect(role);
      d.grantMasterSecretRead(role);
    });
    const db = onlyResource(template, 'AWS::RDS::DBInstance').id;
    const statements = roleStatements(template, roleId);
    expect(statements.find((s) => s.actions.includes('rds-db:connect'))!.resources).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds-db:us-east-1:123456789012:dbuser:', { 'Fn::GetAtt': [db, 'DbiResourceId'] }, '/shop_api']],
    }]);
    expect(statements.find((s) => s.actions.includes('secretsmanager:GetSecretValue'))!.resources).toEqual([stack.resolve(data.secret.secretArn)]);
  });
});

/** Roles a statement reaches: the roles of the policy documents it is in. */
function readersOfSecret(t: SynthesizedPlatform): { roles: string[]; resources: unknown[] } {
  const template = t.template.toJSON().Resources;
  const roles = new Set<string>();
  const resources: unknown[] = [];
  const reads = (statement: any) => {
    const actions = [statement.Action].flat();
    return statement.Effect === 'Allow' && actions.some((a: string) => /^secretsmanager:(GetSecretValue|\*)$|^secretsmanager:Get\*$|^\*$/.test(a));
  };
  for (const [id, r] of Object.entries<any>(template)) {
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of r.Properties.Policies ?? []) {
        for (const s of [p.PolicyDocument.Statement].flat()) if (reads(s)) roles.add(id), resources.push(...[s.Resource].flat());
      }
    }
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
      for (const s of [r.Properties.PolicyDocument.Statement].flat()) {
        if (!reads(s)) continue;
        resources.push(...[s.Resource].flat());
        for (const role of r.Properties.Roles ?? []) roles.add(refId(role)!);
        // A managed policy may also be attached through a role's ManagedPolicyArns.
        for (const [roleId, role] of Object.entries<any>(template)) {
          if (role.Type === 'AWS::IAM::Role' && (role.Properties.ManagedPolicyArns ?? []).some((a: any) => refId(a) === id)) roles.add(roleId);
        }
      }
    }
  }
  return { roles: [...roles].sort(), resources };
}

describe.each(['dev', 'prod'] as const)('%s platform', (preset) => {
  let p: SynthesizedPlatform;
  beforeAll(() => {
    p = synthPlatform(preset);
  });
  const appRole = () => onlyResource(p.template, 'AWS::IAM::Role', 'PlatformAppInstanceRole').id;

  test('the master secret is readable only by the app-user function (in this template) and the rotation application', () => {
    const { roles, resources } = readersOfSecret(p);
    expect(roles).toEqual([onlyResource(p.template, 'AWS::IAM::Role', 'PlatformDataAppUserFunctionRole').id]);
    expect(resources).toEqual([p.stack.resolve(p.platform.data.secret.secretArn)]);
    // The rotation function's role is in the rotation application (aws-cdk-lib's SAR template),
    // which rotates exactly this secret.
    const rotation = onlyResource(p.template, 'AWS::SecretsManager::RotationSchedule');
    expect(rotation.properties.SecretId).toEqual(p.stack.resolve(p.platform.data.secret.secretArn));
    expect(refId(rotation.properties.RotationLambdaARN)).toEqual(onlyResource(p.template, 'AWS::Serverless::Application').id);
    // The tier key lets no principal of this template decrypt but the app-user function.
    const key = onlyResource(p.template, 'AWS::KMS::Key', 'PlatformDataEncryptionKey');
    const viaSecretsManager = key.properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Condition ?? {}).includes('secretsmanager'));
    const keyRoles = viaSecretsManager.map((s: any) => refId(s.Principal.AWS)).filter((id: string | undefined) => id !== undefined);
    expect(keyRoles).toEqual([onlyResource(p.template, 'AWS::IAM::Role', 'PlatformDataAppUserFunctionRole').id]);
    // The others are the account's own statements (Secrets Manager's use of the key), not a role.
    const others = viaSecretsManager.filter((s: any) => refId(s.Principal.AWS) === undefined).map((s: any) => JSON.stringify(s.Principal.AWS));
    for (const principal of others) expect(principal).toMatch(/:iam::123456789012:root"/);
  });

  test('the app-user function runs where the rotation function runs, with the same way to Secrets Manager', () => {
    const fn = onlyResource(p.template, 'AWS::Lambda::Function', 'PlatformDataAppUserFunction');
    const rotationApp = onlyResource(p.template, 'AWS::Serverless::Application');
    expect(fn.properties.VpcConfig.SubnetIds).toEqual(
      rotationApp.properties.Parameters.vpcSubnetIds['Fn::Join'][1].filter((x: unknown) => x !== ','));
    const sg = onlyResource(p.template, 'AWS::EC2::SecurityGroup', 'PlatformDataAppUserSecurityGroup').id;
    const dbSg = onlyResource(p.template, 'AWS::EC2::SecurityGroup', 'PlatformDataSecurityGroup').id;
    const egress = egressRules(p.template, sg);
    expect(egress).toContainEqual({ peer: `sg:${dbSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 });
    // dev's NAT instance has a security group that must admit the function (and says so on both sides).
    expect(egress).toHaveLength(preset === 'dev' ? 3 : 2);
    if (preset === 'dev') {
      const natSg = onlyResource(p.template, 'AWS::EC2::SecurityGroup', 'PlatformNetworkVpcNatSecurityGroup').id;
      expect(egress).toContainEqual({ peer: `sg:${natSg}`, protocol: 'tcp', fromPort: 443, toPort: 443 });
    }
    if (preset === 'prod') {
      // prod has interface endpoints: the database subnets and the Secrets Manager endpoint.
      expect(fnSubnetGroups(p.template, fn.id)).toEqual(['Data', 'Data', 'Data']);
      const smEndpoint = resourcesOfType(p.template, 'AWS::EC2::VPCEndpoint')
        .find((e) => JSON.stringify(e.properties.ServiceName).includes('secretsmanager'))!;
      const endpointSgs = smEndpoint.properties.SecurityGroupIds.map(refId);
      expect(egress).toContainEqual({ peer: `sg:${endpointSgs[0]}`, protocol: 'tcp', fromPort: 443, toPort: 443 });
    } else {
      // dev goes out through NAT from the app subnets, like the rotation function.
      expect(fnSubnetGroups(p.template, fn.id)).toEqual(['App', 'App']);
      expect(egress).toContainEqual({ peer: 'cidr:0.0.0.0/0', protocol: 'tcp', fromPort: 443, toPort: 443 });
    }
  });

  test('the API gets DB_USER and DB_AUTH=iam, no secret ARN', () => {
    const env = p.platform.app.environment;
    expect(env).toMatchObject({ DB_AUTH: 'iam', DB_USER: 'app', DB_NAME: 'app', DB_PORT: '3306' });
    expect(p.stack.resolve(env.DB_HOST)).toEqual({ 'Fn::GetAtt': [onlyResource(p.template, 'AWS::RDS::DBInstance').id, 'Endpoint.Address'] });
    expect(Object.keys(env).filter((k) => /^DB_(SECRET|PASSWORD)/.test(k))).toEqual([]);
    // What the instances get: the user data names the user and the mode, and no secret.
    const lt = onlyResource(p.template, 'AWS::EC2::LaunchTemplate', 'PlatformAppLaunchTemplate').id;
    const userData = launchTemplateUserData(p.template, lt);
    const envFile = bootFile(userData, '/etc/cdk-three-tier/app.env');
    expect(envFile).toMatch(/^DB_AUTH="?iam"?$/m);
    expect(envFile).toMatch(/^DB_USER="?app"?$/m);
    expect(envFile).not.toMatch(/DB_SECRET_ARN|DB_PASSWORD/);
    expect(JSON.stringify(p.template.toJSON().Resources[lt])).not.toMatch(/SecretString|resolve:secretsmanager/);
  });

  test('the API role may connect as exactly dbuser:<resource id>/app, and read no secret', () => {
    const statements = roleStatements(p.template, appRole());
    const db = onlyResource(p.template, 'AWS::RDS::DBInstance').id;
    const connect = statements.filter((s) => s.actions.some((a) => a.startsWith('rds-db:') || a === '*' || a === 'rds-db:*'));
    expect(connect.map((s) => ({ actions: s.actions, resources: s.resources }))).toEqual([{
      actions: ['rds-db:connect'],
      resources: [{
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds-db:us-east-1:123456789012:dbuser:', { 'Fn::GetAtt': [db, 'DbiResourceId'] }, '/app']],
      }],
    }]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(allIdentityStatements(p.template).filter((s) => s.actions.includes('secretsmanager:GetSecretValue')).length).toBe(1);
  });
});

describe('app tier standalone', () => {
  test.each(['DB_USER', 'DB_AUTH'])('environment may not set %s', (key) => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    expect(() => new AppTier(stack, 'App', { vpc, source: API_SOURCE, environment: { [key]: 'x' } }))
      .toThrow(new RegExp(`environment.*'${key}'.* must not be one the tier sets`));
  });
});

describe('handler', () => {
  const props = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
    SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:master-AbCdEf',
    Host: 'db.abcdefghij.us-east-1.rds.amazonaws.com',
    Port: '3306',
    DatabaseName: 'app',
    Username: 'app',
  };
  const event = (RequestType: 'Create' | 'Update' | 'Delete', ResourceProperties: Record<string, string> = props) => ({
    RequestType,
    ResourceProperties,
    OldResourceProperties: ResourceProperties,
    PhysicalResourceId: 'app',
    ServiceToken: props.ServiceToken,
    ResponseURL: 'https://example.invalid/',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'AppUser',
    ResourceType: 'Custom::AppUser',
  } as unknown as CloudFormationCustomResourceEvent);
  const master = { username: 'dbadmin', password: 'current-password' };
  let queries: string[];
  let ended: number;
  const connection = () => ({
    query: jest.fn(async (sql: string) => {
      queries.push(sql);
      return [[], []];
    }),
    end: jest.fn(async () => {
      ended++;
    }),
  });

  beforeEach(() => {
    queries = [];
    ended = 0;
    mockSend.mockReset();
    mockCreateConnection.mockReset();
    mockSend.mockImplementation(async (command: { input: { VersionStage: string } }) => ({ SecretString: JSON.stringify(command.input.VersionStage === 'AWSCURRENT' ? master : {}) }));
    mockCreateConnection.mockImplementation(async () => connection());
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  test.each(['Create', 'Update'] as const)('%s: connects as the master user over verified TLS and runs the rendered SQL in order', async (type) => {
    const response = await handler(event(type));
    expect(response).toEqual({ PhysicalResourceId: 'app', Data: { Username: 'app' } });
    expect(mockSend).toHaveBeenCalledTimes(1);
    expect(mockSend.mock.calls[0][0].input).toEqual({ SecretId: props.SecretArn, VersionStage: 'AWSCURRENT' });
    expect(mockCreateConnection).toHaveBeenCalledTimes(1);
    const options = mockCreateConnection.mock.calls[0][0];
    expect(options).toMatchObject({ host: props.Host, port: 3306, user: 'dbadmin', password: 'current-password' });
    expect(options.database).toBeUndefined();
    expect(options.ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' });
    // The CA the data tier's instance uses (rds-ca-rsa2048-g1) is in the embedded bundle.
    const subjects = (options.ssl.ca as string[]).map((pem) => new X509Certificate(pem).subject);
    expect(subjects).toContainEqual(expect.stringContaining('CN=Amazon RDS us-east-1 Root CA RSA2048 G1'));
    expect(queries).toEqual(renderAppUserSql({ username: 'app', databaseName: 'app' }));
    expect(ended).toBe(1);
  });

  test('Delete does nothing: no secret read, no connection', async () => {
    expect(await handler(event('Delete'))).toEqual({ PhysicalResourceId: 'app' });
    expect(mockSend).not.toHaveBeenCalled();
    expect(mockCreateConnection).not.toHaveBeenCalled();
  });

  test('a hostile user name fails before the secret is read', async () => {
    await expect(handler(event('Create', { ...props, Username: "app'@'%' IDENTIFIED BY 'x" }))).rejects.toThrow(/username .* must start with a letter/);
    expect(mockSend).not.toHaveBeenCalled();
    expect(mockCreateConnection).not.toHaveBeenCalled();
  });

  test('mid-rotation: the AWSPENDING password is tried when AWSCURRENT is refused', async () => {
    mockSend.mockImplementation(async (command: { input: { VersionStage: string } }) => ({
      SecretString: JSON.stringify(command.input.VersionStage === 'AWSCURRENT' ? master : { username: 'dbadmin', password: 'pending-password' }),
    }));
    mockCreateConnection.mockImplementation(async (options: { password: string }) => {
      if (options.password === 'current-password') throw Object.assign(new Error('Access denied'), { code: 'ER_ACCESS_DENIED_ERROR' });
      return connection();
    });
    await handler(event('Update'));
    expect(mockCreateConnection.mock.calls.map((c) => c[0].password)).toEqual(['current-password', 'pending-password']);
    expect(queries).toHaveLength(3);
  });

  test('a SQL error fails the deployment at once (no retry)', async () => {
    mockCreateConnection.mockImplementation(async () => ({
      query: jest.fn(async () => {
        throw Object.assign(new Error('You have an error in your SQL syntax'), { code: 'ER_PARSE_ERROR' });
      }),
      end: jest.fn(async () => undefined),
    }));
    await expect(handler(event('Create'))).rejects.toThrow(/SQL syntax/);
    expect(mockCreateConnection).toHaveBeenCalledTimes(1);
  });

  test('the bundled asset embeds the handler and the RDS certificate authorities', () => {
    const bundle = fs.readFileSync(path.join(__dirname, '..', 'assets', 'data', 'app-user.lambda', 'index.js'), 'utf8');
    expect(bundle).toContain('AWSAuthenticationPlugin');
    // esbuild writes each certificate as one JSON-compatible string literal.
    const literals = bundle.match(/"-----BEGIN CERTIFICATE-----[^"]+-----END CERTIFICATE-----\\n"/g) ?? [];
    expect(literals.length).toBeGreaterThan(100);
    const subjects = literals.map((literal) => new X509Certificate(JSON.parse(literal) as string).subject);
    expect(subjects).toContainEqual(expect.stringContaining('CN=Amazon RDS us-east-1 Root CA RSA2048 G1'));
  });
});
