import { CfnParameter, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { AppTier, DataTier, DataTierProps, NatMode, NetworkTier } from '../src';
import { API_SOURCE, newStack, PRESETS, PresetName } from './support/stacks';
import { ingressRules, onlyResource, refId, roleStatements, subnetsOf } from './support/template';

interface SynthesizedData {
  readonly stack: Stack;
  readonly data: DataTier;
  readonly template: Template;
}

/** A data tier in a VPC with isolated subnets only, in 2 AZs. */
function synthData(
  preset: PresetName,
  props: Partial<DataTierProps> = {},
  extend?: (stack: Stack, data: DataTier) => void,
  stackProps?: (stack: Stack) => Partial<DataTierProps>,
): SynthesizedData {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  const data = new DataTier(stack, 'Data', { vpc, preset: PRESETS[preset](), ...props, ...stackProps?.(stack) });
  extend?.(stack, data);
  return { stack, data, template: Template.fromStack(stack) };
}

const cache = new Map<PresetName, SynthesizedData>();
const byPreset = (preset: PresetName) => {
  if (!cache.has(preset)) cache.set(preset, synthData(preset));
  return cache.get(preset)!;
};
const database = (t: Template) => onlyResource(t, 'AWS::RDS::DBInstance');
const key = (t: Template) => onlyResource(t, 'AWS::KMS::Key', 'DataEncryptionKey');

describe('database instance', () => {
  test.each(['dev', 'staging', 'prod'] as PresetName[])('%s: MySQL 8.4.7, private, encrypted with the tier key, gp3, IAM auth, log exports', (preset) => {
    const { template } = byPreset(preset);
    expect(database(template).properties).toMatchObject({
      Engine: 'mysql',
      EngineVersion: '8.4.7',
      PubliclyAccessible: false,
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [key(template).id, 'Arn'] },
      StorageType: 'gp3',
      EnableIAMDatabaseAuthentication: true,
      EnableCloudwatchLogsExports: ['error', 'general', 'slowquery', 'audit'],
      Port: '3306',
      DBName: 'app',
      MasterUsername: 'dbadmin',
      CopyTagsToSnapshot: true,
      AutoMinorVersionUpgrade: true,
      CACertificateIdentifier: 'rds-ca-rsa2048-g1',
      MonitoringRoleArn: expect.anything(),
    });
    expect(key(template).properties.EnableKeyRotation).toBe(true);
  });

  test.each<[PresetName, string, boolean, number, boolean, string, number, string, number]>([
    ['dev', 'db.t4g.micro', false, 1, false, 'Delete', 60, '20', 50],
    ['staging', 'db.t4g.medium', true, 7, false, 'Snapshot', 60, '20', 100],
    ['prod', 'db.r7g.large', true, 30, true, 'Snapshot', 30, '100', 1000],
  ])('%s: %s, Multi-AZ %s, backups %i days, deletion protection %s, DeletionPolicy %s, monitoring %i s, storage %s to %i GiB', (
    preset, instanceClass, multiAz, backupDays, deletionProtection, deletionPolicy, monitoring, allocated, maxAllocated,
  ) => {
    const db = database(byPreset(preset).template);
    expect(db.properties).toMatchObject({
      DBInstanceClass: instanceClass,
      MultiAZ: multiAz,
      BackupRetentionPeriod: backupDays,
      DeletionProtection: deletionProtection,
      MonitoringInterval: monitoring,
      AllocatedStorage: allocated,
      MaxAllocatedStorage: maxAllocated,
    });
    expect(db.resource.DeletionPolicy).toBe(deletionPolicy);
    expect(db.resource.UpdateReplacePolicy).toBe(deletionPolicy);
  });

  test.each<[PresetName, string]>([
    ['dev', 'Delete'],
    ['staging', 'Retain'],
    ['prod', 'Retain'],
  ])('%s: the storage key is %s (a snapshot stays readable only with its key)', (preset, policy) => {
    expect(key(byPreset(preset).template).resource.DeletionPolicy).toBe(policy);
  });

  test('Performance Insights is off on micro (dev), on and encrypted with the tier key on medium and larger', () => {
    expect(database(byPreset('dev').template).properties.EnablePerformanceInsights).toBeFalsy();
    expect(byPreset('dev').data.performanceInsightsEnabled).toBe(false);
    for (const preset of ['staging', 'prod'] as PresetName[]) {
      const { template, data } = byPreset(preset);
      expect(database(template).properties).toMatchObject({
        EnablePerformanceInsights: true,
        PerformanceInsightsKMSKeyId: { 'Fn::GetAtt': [key(template).id, 'Arn'] },
      });
      expect(data.performanceInsightsEnabled).toBe(true);
    }
  });

  test('monitoringInterval 0 turns enhanced monitoring off', () => {
    const { template } = synthData('dev', { monitoringInterval: Duration.seconds(0) });
    expect(database(template).properties.MonitoringInterval).toBeUndefined();
    expect(database(template).properties.MonitoringRoleArn).toBeUndefined();
  });

  test('a full 8.0 engine version uses the 8.0 parameter group family', () => {
    const { template } = synthData('dev', { engineVersion: '8.0.40' });
    expect(database(template).properties.EngineVersion).toBe('8.0.40');
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'mysql8.0' });
  });

  test('the parameter group requires TLS', () => {
    const { template } = byPreset('prod');
    const group = onlyResource(template, 'AWS::RDS::DBParameterGroup');
    expect(group.properties).toMatchObject({ Family: 'mysql8.4', Parameters: { require_secure_transport: '1' } });
    expect(database(template).properties.DBParameterGroupName).toEqual({ Ref: group.id });
  });

  test('the option group turns on the audit plugin', () => {
    const { template } = byPreset('dev');
    const group = onlyResource(template, 'AWS::RDS::OptionGroup');
    expect(group.properties.OptionConfigurations).toEqual([expect.objectContaining({ OptionName: 'MARIADB_AUDIT_PLUGIN' })]);
    expect(database(template).properties.OptionGroupName).toEqual({ Ref: group.id });
  });

  test('the removalPolicy, deletionProtection and multiAz props win over the preset', () => {
    const { template } = synthData('prod', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, multiAz: false });
    const db = database(template);
    expect(db.resource.DeletionPolicy).toBe('Delete');
    expect(db.properties).toMatchObject({ DeletionProtection: false, MultiAZ: false });
    expect(key(template).resource.DeletionPolicy).toBe('Delete');
  });
});

describe('subnets and security group', () => {
  test('the DB subnet group holds the data (isolated) subnets of the network tier', () => {
    const stack = newStack();
    const network = new NetworkTier(stack, 'Network', { natMode: NatMode.singleGateway() });
    new DataTier(stack, 'Data', { vpc: network.vpc, rotation: false });
    const template = Template.fromStack(stack);
    const dataSubnets = subnetsOf(template).filter((s) => s.group === 'Data');
    expect(dataSubnets.map((s) => s.type)).toEqual(['Isolated', 'Isolated']);
    const group = onlyResource(template, 'AWS::RDS::DBSubnetGroup');
    expect(group.properties.SubnetIds.map(refId).sort()).toEqual(dataSubnets.map((s) => s.id).sort());
    expect(database(template).properties.DBSubnetGroupName).toEqual({ Ref: group.id });
  });

  test('the database admits only the app instances, the rotation function and the app-user function, on 3306 written as a literal', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const data = new DataTier(stack, 'Data', { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
    new AppTier(stack, 'App', { vpc, source: API_SOURCE, database: data });
    const template = Template.fromStack(stack);
    const dbSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'DataSecurityGroup').id;
    const appSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppInstanceSecurityGroup').id;
    const rotationSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'DataRotationSecurityGroup').id;
    const appUserSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'DataAppUserSecurityGroup').id;
    const rules = ingressRules(template, dbSg).sort((a, b) => a.peer.localeCompare(b.peer));
    expect(rules).toEqual([
      { peer: `sg:${appSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 },
      { peer: `sg:${rotationSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 },
      { peer: `sg:${appUserSg}`, protocol: 'tcp', fromPort: 3306, toPort: 3306 },
    ].sort((a, b) => a.peer.localeCompare(b.peer)));
    expect(template.toJSON().Resources[dbSg].Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '255.255.255.255/32' }),
    ]);
  });
});

describe('credentials', () => {
  test('a generated secret, encrypted with the tier key; no password in the template', () => {
    const { template, data, stack } = byPreset('prod');
    const secret = onlyResource(template, 'AWS::SecretsManager::Secret');
    expect(secret.properties).toMatchObject({
      GenerateSecretString: { GenerateStringKey: 'password', SecretStringTemplate: '{"username":"dbadmin"}' },
      KmsKeyId: { 'Fn::GetAtt': [key(template).id, 'Arn'] },
    });
    const password = database(template).properties.MasterUserPassword;
    expect(typeof password).not.toBe('string');
    expect(JSON.stringify(password)).toContain('{{resolve:secretsmanager:');
    expect(JSON.stringify(password)).toContain(`"Ref":"${secret.id}"`);
    expect(stack.resolve(data.secret.secretArn)).toEqual({ Ref: onlyResource(template, 'AWS::SecretsManager::SecretTargetAttachment').id });
  });

  test('the password rotates every 30 days by default', () => {
    const { template, data } = byPreset('dev');
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
    expect(data.rotation).toBeDefined();
    // Standalone, the tier brings the Secrets Manager endpoint the rotation function needs.
    expect(data.secretsManagerEndpoint).toBeDefined();
  });

  test('rotationInterval sets the schedule; rotation: false removes it', () => {
    synthData('dev', { rotationInterval: Duration.days(7) }).template
      .hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
    const off = synthData('dev', { rotation: false });
    off.template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(off.data.rotation).toBeUndefined();
    // The endpoint stays: the function that creates the app user reads the master secret through it.
    expect(off.data.secretsManagerEndpoint).toBeDefined();
  });
});

describe('grants', () => {
  /** A data tier and a role, granted by `grant` before synthesis. */
  const withRole = (grant: (data: DataTier, role: iam.Role) => iam.Grant[]) => {
    let grants: iam.Grant[] = [];
    let roleId = '';
    const synthesized = synthData('dev', {}, (stack, data) => {
      const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
      roleId = stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
      grants = grant(data, role);
    });
    return { ...synthesized, grants, roleId };
  };

  test('grantConnect: rds-db:connect as the app user, or as the given user', () => {
    const { template, grants, roleId } = withRole((data, role) => [data.grantConnect(role), data.grantConnect(role, 'reporting')]);
    expect(grants.map((g) => g.success)).toEqual([true, true]);
    const dbId = database(template).id;
    const statements = roleStatements(template, roleId).filter((s) => s.actions.includes('rds-db:connect'));
    const users = statements.flatMap((s) => s.resources).map((r) => JSON.stringify(r));
    expect(users).toHaveLength(2);
    // By default the API's own user, never the master user.
    expect(users[0]).toContain(`:rds-db:us-east-1:123456789012:dbuser:",{"Fn::GetAtt":["${dbId}","DbiResourceId"]},"/app"`);
    expect(users.join()).not.toContain('SecretString:username');
    expect(users[1]).toContain('"/reporting"');
  });

  test('grantMasterSecretRead: read the secret, decrypt through Secrets Manager only', () => {
    const { stack, data, template, grants, roleId } = withRole((d, role) => [d.grantMasterSecretRead(role)]);
    expect(grants.map((g) => g.success)).toEqual([true]);
    const secret = stack.resolve(data.secret.secretArn);
    expect(roleStatements(template, roleId)).toEqual([
      expect.objectContaining({ effect: 'Allow', actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], resources: [secret] }),
    ]);
    const keyStatements = key(template).properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes(roleId));
    expect(keyStatements).toEqual([expect.objectContaining({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } },
    })]);
  });
});

describe('metrics', () => {
  test.each<[string, (d: DataTier) => any, string, string]>([
    ['metricCpuUtilization', (d) => d.metricCpuUtilization(), 'CPUUtilization', 'Average'],
    ['metricFreeStorageSpace', (d) => d.metricFreeStorageSpace(), 'FreeStorageSpace', 'Minimum'],
    ['metricDatabaseConnections', (d) => d.metricDatabaseConnections(), 'DatabaseConnections', 'Maximum'],
  ])('%s: %s, %s over 5 minutes, for this instance', (_name, metric, metricName, statistic) => {
    const { data, stack, template } = byPreset('dev');
    const m = metric(data);
    expect(m).toMatchObject({ namespace: 'AWS/RDS', metricName, statistic });
    expect(m.period.toMinutes()).toBe(5);
    expect(stack.resolve(m.dimensions)).toEqual({ DBInstanceIdentifier: { Ref: database(template).id } });
  });

  test('metric options win over the defaults', () => {
    const m = byPreset('dev').data.metricCpuUtilization({ statistic: 'Maximum', period: Duration.minutes(1) });
    expect(m.statistic).toBe('Maximum');
    expect(m.period.toMinutes()).toBe(1);
  });
});

describe('AWS Backup', () => {
  test.each<[PresetName, number]>([
    ['dev', 0],
    ['staging', 1],
    ['prod', 1],
  ])('%s: %i backup plan(s) of the database in a vault encrypted with the tier key', (preset, count) => {
    const { template } = byPreset(preset);
    template.resourceCountIs('AWS::Backup::BackupPlan', count);
    if (count > 0) {
      template.hasResourceProperties('AWS::Backup::BackupVault', { EncryptionKeyArn: { 'Fn::GetAtt': [key(template).id, 'Arn'] } });
      // Selected by tag: the database carries the tag the selection matches.
      const byArn = onlyResource(template, 'AWS::Backup::BackupSelection', 'DataBackupPlanSelection');
      expect(JSON.stringify(byArn.properties)).toContain(database(template).id);
      const byTag = onlyResource(template, 'AWS::Backup::BackupSelection', 'DataBackupPlanTagSelection');
      const [condition] = byTag.properties.BackupSelection.ListOfTags;
      expect(database(template).properties.Tags).toContainEqual({ Key: condition.ConditionKey, Value: condition.ConditionValue });
    }
  });

  test('the backupPlan prop wins over the preset', () => {
    synthData('dev', { backupPlan: true }).template.resourceCountIs('AWS::Backup::BackupPlan', 1);
  });
});

describe('instance type', () => {
  test.each<[string, string, boolean]>([
    ['db.t4g.micro', 'db.t4g.micro', false],
    ['t4g.micro', 'db.t4g.micro', false],
    ['db.r7g.large', 'db.r7g.large', true],
    ['r7g.large', 'db.r7g.large', true],
  ])("new ec2.InstanceType('%s') becomes %s, Performance Insights %s", (identifier, instanceClass, pi) => {
    const { template, data } = synthData('prod', { instanceType: new ec2.InstanceType(identifier) });
    expect(database(template).properties.DBInstanceClass).toBe(instanceClass);
    expect(Boolean(database(template).properties.EnablePerformanceInsights)).toBe(pi);
    expect(data.performanceInsightsEnabled).toBe(pi);
  });

  test('performanceInsights: true on a db.-prefixed micro class is refused like the plain one', () => {
    expect(() => synthData('dev', { instanceType: new ec2.InstanceType('db.t4g.micro'), performanceInsights: true }))
      .toThrow(/performanceInsights \(true\) is not supported on t4g\.micro/);
  });

  test.each(['garbage', 'db.', 't4g', 'db.t4g', 'T4G.MICRO', 'db.t4g.micro.large'])("a malformed identifier '%s' names instanceType", (identifier) => {
    expect(() => synthData('dev', { instanceType: new ec2.InstanceType(identifier) }))
      .toThrow(new RegExp(`^instanceType \\('${identifier.replace(/\./g, '\\.')}'\\) must be an instance class and size such as 't4g\\.medium' or 'db\\.t4g\\.medium'.* in Stack/Data$`));
  });

  test('a token instance type is passed on; Performance Insights must then be chosen explicitly', () => {
    const typeFrom = (stack: Stack) => new ec2.InstanceType(new CfnParameter(stack, 'DbClass').valueAsString);
    expect(() => synthData('dev', {}, undefined, (stack) => ({ instanceType: typeFrom(stack) })))
      .toThrow(/^instanceType \('token \{"Ref":"DbClass"\}'\) is a token, so set performanceInsights to true or false/);
    const { template, data } = synthData('dev', {}, undefined, (stack) => ({ instanceType: typeFrom(stack), performanceInsights: false }));
    expect(database(template).properties.DBInstanceClass).toEqual({ 'Fn::Join': ['', ['db.', { Ref: 'DbClass' }]] });
    expect(data.performanceInsightsEnabled).toBe(false);
  });
});

describe('engine version', () => {
  /** The MySQL 8.0.x and 8.4.x versions aws-cdk-lib lists, from its own static members. */
  const listed = Object.values(Object.getOwnPropertyDescriptors(rds.MysqlEngineVersion))
    .map((d) => d.value)
    .filter((v): v is rds.MysqlEngineVersion => v instanceof rds.MysqlEngineVersion)
    .map((v) => v.mysqlFullVersion)
    .filter((v) => /^8\.[04]\.\d+$/.test(v));
  const byPatch = (a: string, b: string) => Number(a.split('.')[2]) - Number(b.split('.')[2]);
  const of = (major: string) => listed.filter((v) => v.startsWith(`${major}.`)).sort(byPatch);

  test('aws-cdk-lib lists 8.0 and 8.4 versions, the default among them', () => {
    expect(of('8.0').length).toBeGreaterThan(10);
    expect(of('8.4').length).toBeGreaterThan(3);
    expect(listed).toContain(DataTier.DEFAULT_ENGINE_VERSION);
  });

  test.each([['8.0', 0], ['8.0', -1], ['8.4', 0], ['8.4', -1]] as const)('the %s version at %i of the list is accepted, with its family', (major, index) => {
    const version = of(major).at(index)!;
    const { template } = synthData('dev', { engineVersion: version });
    expect(database(template).properties.EngineVersion).toBe(version);
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: `mysql${major}` });
  });

  test('a version aws-cdk-lib does not list is refused, with the newest versions of each major in the message', () => {
    const newest = [...of('8.4').slice(-3).reverse(), ...of('8.0').slice(-3).reverse()].map((v) => v.replace(/\./g, '\\.'));
    expect(() => synthData('dev', { engineVersion: '8.4.999' }))
      .toThrow(new RegExp(`^engineVersion \\('8\\.4\\.999'\\) must be a full MySQL 8\\.0\\.x or 8\\.4\\.x version .*\\(newest: ${newest.join(', ')}\\)`));
  });

  test('a token the stack resolves is checked and used as its literal', () => {
    const { template } = synthData('dev', { engineVersion: Lazy.string({ produce: () => '8.0.40' }) });
    expect(database(template).properties.EngineVersion).toBe('8.0.40');
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', { Family: 'mysql8.0' });
    expect(() => synthData('dev', { engineVersion: Lazy.string({ produce: () => '8.0.38' }) })).toThrow(/^engineVersion \('8\.0\.38'\) must be a full MySQL/);
  });

  test('a CloudFormation parameter is refused: the version selects the parameter group family', () => {
    expect(() => synthData('dev', {}, undefined, (stack) => ({ engineVersion: new CfnParameter(stack, 'Version').valueAsString })))
      .toThrow(/^engineVersion \('token \{"Ref":"Version"\}'\) must be a literal \(it selects the parameter group family\) in Stack\/Data$/);
  });
});

describe('token inputs: resolved where the stack can, else passed on unchanged', () => {
  const param = (stack: Stack, id = 'P') => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
  const stringParam = (stack: Stack, id = 'S') => new CfnParameter(stack, id).valueAsString;
  const lazy = (n: number) => Lazy.number({ produce: () => n });

  test('monitoringInterval: Duration.seconds(Lazy.number(...)) is checked as its literal', () => {
    expect(database(synthData('dev', { monitoringInterval: Duration.seconds(lazy(30)) }).template).properties.MonitoringInterval).toBe(30);
    const off = database(synthData('dev', { monitoringInterval: Duration.seconds(lazy(0)) }).template).properties;
    expect(off.MonitoringInterval).toBeUndefined();
    expect(off.MonitoringRoleArn).toBeUndefined();
    expect(() => synthData('dev', { monitoringInterval: Duration.seconds(lazy(2)) })).toThrow(/^monitoringInterval \('2 seconds'\) must be one of 0, 1, 5, 10, 15, 30, 60 seconds/);
  });

  test('monitoringInterval: a parameter in seconds is passed on (with the monitoring role); other units are refused', () => {
    const { template } = synthData('dev', {}, undefined, (stack) => ({ monitoringInterval: Duration.seconds(param(stack)) }));
    expect(database(template).properties).toMatchObject({ MonitoringInterval: { Ref: 'P' }, MonitoringRoleArn: expect.anything() });
    expect(() => synthData('dev', {}, undefined, (stack) => ({ monitoringInterval: Duration.minutes(param(stack)) })))
      .toThrow(/^monitoringInterval \('token \{"Ref":"P"\} minutes'\) must be made with Duration\.seconds\(\) when its amount is a token/);
  });

  test('backupRetention: a resolvable token is checked; a parameter in days is passed on; other units are refused', () => {
    expect(database(synthData('dev', { backupRetention: Duration.days(lazy(7)) }).template).properties.BackupRetentionPeriod).toBe(7);
    expect(() => synthData('dev', { backupRetention: Duration.days(lazy(40)) })).toThrow(/^backupRetention \('40 days'\) must be a whole number of days from 1 to 35/);
    const { template } = synthData('dev', {}, undefined, (stack) => ({ backupRetention: Duration.days(param(stack)) }));
    expect(database(template).properties.BackupRetentionPeriod).toEqual({ Ref: 'P' });
    expect(() => synthData('dev', {}, undefined, (stack) => ({ backupRetention: Duration.hours(param(stack)) })))
      .toThrow(/^backupRetention \('token \{"Ref":"P"\} hours'\) must be made with Duration\.days\(\)/);
  });

  test('rotationInterval: a resolvable token is checked; a parameter in days reaches the schedule expression unchanged', () => {
    synthData('dev', { rotationInterval: Duration.days(lazy(14)) }).template
      .hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(14 days)' } });
    expect(() => synthData('dev', { rotationInterval: Duration.days(lazy(400)) })).toThrow(/^rotationInterval \('400 days'\) must be a whole number of days from 1 to 365/);
    const { template } = synthData('dev', {}, undefined, (stack) => ({ rotationInterval: Duration.days(param(stack)) }));
    expect(onlyResource(template, 'AWS::SecretsManager::RotationSchedule').properties.RotationRules)
      .toEqual({ ScheduleExpression: { 'Fn::Join': ['', ['rate(', { Ref: 'P' }, ' days)']] } });
    expect(() => synthData('dev', {}, undefined, (stack) => ({ rotationInterval: Duration.hours(param(stack)) })))
      .toThrow(/^rotationInterval \('token \{"Ref":"P"\} hours'\) must be made with Duration\.days\(\)/);
  });

  test('port: a resolvable token is checked and written as a literal; a parameter is passed on', () => {
    const literal = synthData('dev', { port: lazy(3307) });
    expect(database(literal.template).properties.Port).toBe('3307');
    expect(literal.data.port).toBe(3307);
    expect(() => synthData('dev', { port: lazy(80) })).toThrow(/^port \(80\) must be an integer from 1150 to 65535 in Stack\/Data$/);
    const { template } = synthData('dev', {}, undefined, (stack) => ({ port: param(stack) }));
    expect(database(template).properties.Port).toEqual({ Ref: 'P' });
  });

  test('storage: resolvable tokens are checked (also against each other); parameters are passed on', () => {
    expect(() => synthData('dev', { allocatedStorageGiB: lazy(10) })).toThrow(/^allocatedStorageGiB \(10\) must be an integer from 20 to 65536/);
    expect(() => synthData('dev', { allocatedStorageGiB: lazy(60), maxAllocatedStorageGiB: lazy(40) }))
      .toThrow(/^maxAllocatedStorageGiB \(40\) must be >= allocatedStorageGiB \(60\)/);
    const { template } = synthData('dev', {}, undefined, (stack) => ({ allocatedStorageGiB: param(stack, 'A'), maxAllocatedStorageGiB: param(stack, 'M') }));
    expect(database(template).properties).toMatchObject({ AllocatedStorage: { Ref: 'A' }, MaxAllocatedStorage: { Ref: 'M' } });
  });

  test('databaseName and masterUsername: resolvable tokens are checked as literals; a masterUsername parameter is passed on', () => {
    const literal = synthData('dev', { databaseName: Lazy.string({ produce: () => 'shop' }), masterUsername: Lazy.string({ produce: () => 'owner' }) });
    expect(database(literal.template).properties).toMatchObject({ DBName: 'shop', MasterUsername: 'owner' });
    expect(literal.data.databaseName).toBe('shop');
    expect(() => synthData('dev', { databaseName: Lazy.string({ produce: () => 'my-db' }) })).toThrow(/^databaseName \('my-db'\) must start with a letter/);
    expect(() => synthData('dev', { masterUsername: Lazy.string({ produce: () => 'Root' }) })).toThrow(/^masterUsername \('Root'\) must .*not be 'root' or 'rdsadmin'/);
    const { template } = synthData('dev', {}, undefined, (stack) => ({ masterUsername: stringParam(stack, 'User') }));
    expect(database(template).properties.MasterUsername).toEqual({ Ref: 'User' });
    expect(JSON.stringify(onlyResource(template, 'AWS::SecretsManager::Secret').properties.GenerateSecretString)).toContain('{"Ref":"User"}');
  });

  test('databaseName: a parameter is refused, the app user is granted privileges on it in SQL rendered at synth', () => {
    expect(() => synthData('dev', {}, undefined, (stack) => ({ databaseName: stringParam(stack, 'Db') })))
      .toThrow(/^databaseName \('token \{"Ref":"Db"\}'\) must be a literal \(the app user's GRANT statement, rendered at synth, names it\) in Stack\/Data$/);
  });
});
