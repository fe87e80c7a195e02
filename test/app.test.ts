import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Aws } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { AppSource, AppTier, AppTierProps } from '../src';
import { API_CODE, API_SOURCE, newStack, PRESETS, synthPlatform, SynthesizedPlatform } from './support/stacks';
import {
  allIdentityStatements, decodeShellArgs, egressRules, bootFile, ingressRules, launchTemplateUserData, onlyResource, refId,
  resourcesOfType, roleStatements,
} from './support/template';

let dev: SynthesizedPlatform;
beforeAll(() => {
  dev = synthPlatform('dev', { app: { source: API_SOURCE, environment: { LOG_LEVEL: 'info' } } });
});

const ids = (t: { template: Template }) => ({
  loadBalancer: onlyResource(t.template, 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'PlatformAppLoadBalancer').id,
  loadBalancerSg: onlyResource(t.template, 'AWS::EC2::SecurityGroup', 'PlatformAppLoadBalancerSecurityGroup').id,
  instanceSg: onlyResource(t.template, 'AWS::EC2::SecurityGroup', 'PlatformAppInstanceSecurityGroup').id,
  webInstanceSg: onlyResource(t.template, 'AWS::EC2::SecurityGroup', 'PlatformWebInstanceSecurityGroup').id,
  webLoadBalancerSg: onlyResource(t.template, 'AWS::EC2::SecurityGroup', 'PlatformWebLoadBalancerSecurityGroup').id,
  launchTemplate: onlyResource(t.template, 'AWS::EC2::LaunchTemplate', 'PlatformAppLaunchTemplate').id,
  role: onlyResource(t.template, 'AWS::IAM::Role', 'PlatformAppInstanceRole').id,
  targetGroup: onlyResource(t.template, 'AWS::ElasticLoadBalancingV2::TargetGroup', 'PlatformAppTargetGroup').id,
});

const appUserData = () => launchTemplateUserData(dev.template, ids(dev).launchTemplate);

describe('internal load balancer', () => {
  test('internal, in the app subnets, invalid headers dropped, access logs on', () => {
    const id = ids(dev);
    const lb = dev.template.toJSON().Resources[id.loadBalancer].Properties;
    expect(lb).toMatchObject({ Type: 'application', Scheme: 'internal' });
    const appSubnets = dev.platform.vpc.selectSubnets(dev.platform.network.appSubnets).subnets
      .map((s) => dev.stack.resolve((s as ec2.Subnet).subnetId));
    expect(lb.Subnets).toEqual(appSubnets);
    const attributes = Object.fromEntries(lb.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'app',
      'deletion_protection.enabled': 'false',
    });
  });

  test('its security group admits only the web instances, on the listener port', () => {
    const id = ids(dev);
    expect(ingressRules(dev.template, id.loadBalancerSg)).toEqual([{ peer: `sg:${id.webInstanceSg}`, protocol: 'tcp', fromPort: 80, toPort: 80 }]);
    expect(egressRules(dev.template, id.loadBalancerSg)).toEqual([{ peer: `sg:${id.instanceSg}`, protocol: 'tcp', fromPort: 8080, toPort: 8080 }]);
  });

  test('no security group but the public load balancer\'s admits 0.0.0.0/0', () => {
    const id = ids(dev);
    const open = resourcesOfType(dev.template, 'AWS::EC2::SecurityGroup')
      .filter((sg) => ingressRules(dev.template, sg.id).some((r) => r.peer === 'cidr:0.0.0.0/0' || r.peer === 'cidr:::/0'))
      .map((sg) => sg.id);
    expect(open).toEqual([id.webLoadBalancerSg]);
  });

  test('HTTP listener on port 80 forwarding to the API on port 8080, health check /healthz', () => {
    const id = ids(dev);
    dev.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: { Ref: id.loadBalancer },
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: id.targetGroup } }],
    });
    expect(dev.template.toJSON().Resources[id.targetGroup].Properties).toMatchObject({
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
      Matcher: { HttpCode: '200' },
    });
    expect(dev.stack.resolve(dev.platform.app.endpoint)).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [id.loadBalancer, 'DNSName'] }, ':80']],
    });
  });
});

describe('instances', () => {
  test('they accept traffic only from the internal load balancer, on the app port', () => {
    const id = ids(dev);
    expect(ingressRules(dev.template, id.instanceSg)).toEqual([{ peer: `sg:${id.loadBalancerSg}`, protocol: 'tcp', fromPort: 8080, toPort: 8080 }]);
  });

  test('the user data passes the database coordinates, never the password', () => {
    const data = dev.platform.data;
    const token = (v: string) => `<<${JSON.stringify(dev.stack.resolve(v))}>>`;
    const env = bootFile(appUserData(), '/etc/cdk-three-tier/app.env').split('\n');
    expect(env).toEqual([
      `AWS_REGION="${token(Aws.REGION)}"`,
      'DB_AUTH="iam"',
      `DB_HOST="${token(data.endpointAddress)}"`,
      'DB_NAME="app"',
      'DB_PORT="3306"',
      'DB_USER="app"',
      'LOG_LEVEL="info"',
      'NODE_ENV="production"',
      'PORT="8080"',
      '',
    ]);
    const launchTemplate = JSON.stringify(dev.template.toJSON().Resources[ids(dev).launchTemplate]);
    expect(launchTemplate).not.toMatch(/SecretString/);
    expect(launchTemplate).not.toMatch(/\{\{resolve:secretsmanager/);
    expect(launchTemplate).not.toMatch(/password/i);
    // Readable by root and the app group only.
    expect(appUserData()).toContain("chown 'root:app' '/etc/cdk-three-tier/app.env'");
    expect(appUserData()).toContain("chmod 0640 '/etc/cdk-three-tier/app.env'");
  });

  test('systemd runs the API as the unprivileged user app and restarts it on failure', () => {
    const unit = bootFile(appUserData(), '/etc/systemd/system/app.service').split('\n');
    expect(unit).toEqual(expect.arrayContaining([
      'User=app',
      'Group=app',
      'WorkingDirectory=/opt/app',
      'EnvironmentFile=/etc/cdk-three-tier/app.env',
      'ExecStart=/bin/sh /etc/cdk-three-tier/start.sh',
      'Restart=on-failure',
      'NoNewPrivileges=yes',
    ]));
    expect(unit.filter((l) => l.startsWith('User='))).toEqual(['User=app']);
    expect(bootFile(appUserData(), '/etc/cdk-three-tier/start.sh').split('\n')).toContain('node server.js');
    expect(appUserData()).toContain('systemctl enable --now app');
  });

  test('Node.js 22 by default, from the distribution packages', () => {
    expect(appUserData().split('\n')).toContain('dnf install -y nodejs22 unzip');
  });

  test('the inline source is written into the app directory', () => {
    const script = appUserData();
    expect(bootFile(script, '/opt/app/server.js')).toBe(API_CODE);
  });

  test('the instances read no secret: they connect as the app user with IAM database authentication', () => {
    const secret = dev.stack.resolve(dev.platform.data.secret.secretArn);
    const reads = allIdentityStatements(dev.template).filter((s) => s.actions.some((a) => a.startsWith('secretsmanager:')));
    for (const s of reads) {
      expect(s.resources).toEqual([secret]);
    }
    const statements = roleStatements(dev.template, ids(dev).role);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    expect(statements.filter((s) => s.actions.includes('rds-db:connect')).map((s) => JSON.stringify(s.resources))).toEqual([
      expect.stringMatching(/:dbuser:",\{"Fn::GetAtt":\["PlatformDataDatabase[0-9A-F]{8}","DbiResourceId"\]\},"\/app"\]\]\}\]$/),
    ]);
  });

  test('the key of the secret grants the instances nothing', () => {
    const key = onlyResource(dev.template, 'AWS::KMS::Key', 'PlatformDataEncryptionKey');
    const role = ids(dev).role;
    const grants = key.properties.KeyPolicy.Statement.filter((s: any) => JSON.stringify(s.Principal).includes(role));
    expect(grants).toEqual([]);
  });

  test('no S3 read access with an inline source', () => {
    const s3Actions = roleStatements(dev.template, ids(dev).role).flatMap((s) => s.actions).filter((a) => a.startsWith('s3:'));
    expect(s3Actions).toEqual([]);
  });
});

describe('standalone', () => {
  function synthApp(props: Partial<AppTierProps> = {}) {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const app = new AppTier(stack, 'App', { vpc, source: API_SOURCE, preset: PRESETS.dev(), ...props });
    return { stack, app, template: Template.fromStack(stack) };
  }

  test('AppSource.fromAsset: the instances may read exactly the asset object', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'app-asset-'));
    try {
      fs.writeFileSync(path.join(dir, 'server.js'), 'require("http").createServer((q, s) => s.end("ok")).listen(process.env.PORT);\n');
      const { stack, app, template } = synthApp({ source: AppSource.fromAsset(dir) });
      const asset = app.node.findChild('AppAsset') as s3assets.Asset;
      const objectArn = stack.resolve(asset.bucket.arnForObjects(asset.s3ObjectKey));
      expect(JSON.stringify(objectArn)).toContain(`/${asset.s3ObjectKey}`);
      expect(asset.s3ObjectKey).toMatch(/^[0-9a-f]{64}\.zip$/);
      const role = onlyResource(template, 'AWS::IAM::Role', 'AppInstanceRole').id;
      const s3Statements = roleStatements(template, role).filter((s) => s.actions.some((a) => a.startsWith('s3:')));
      expect(s3Statements).toEqual([expect.objectContaining({ effect: 'Allow', actions: ['s3:GetObject'], resources: [objectArn] })]);
      const script = decodeShellArgs(launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id));
      expect(script).toContain(`/${asset.s3ObjectKey}' /tmp/app.zip`);
      expect(script).toContain("unzip -o -q /tmp/app.zip -d '/opt/app'");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('AppSource.fromInline refuses code over 8 KiB', () => {
    expect(() => synthApp({ source: AppSource.fromInline('x'.repeat(8193)) }))
      .toThrow(/source inline code bytes \(8193\) must be at most 8192: use AppSource\.fromAsset\(\) for larger apps in Stack\/App/);
  });

  test('AppSource.fromInline accepts exactly 8 KiB', () => {
    expect(() => synthApp({ source: AppSource.fromInline('x'.repeat(8192)) })).not.toThrow();
  });

  test('nodeVersion, port, listener port, start command and health check path reach the instances', () => {
    const { template, app } = synthApp({ nodeVersion: 20, port: 3000, listenerPort: 8000, startCommand: 'node dist/main.js', healthCheckPath: '/ready' });
    const script = launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id);
    expect(script.split('\n')).toContain('dnf install -y nodejs20 unzip');
    expect(bootFile(script, '/etc/cdk-three-tier/app.env').split('\n')).toEqual(['AWS_REGION="<<{"Ref":"AWS::Region"}>>"', 'NODE_ENV="production"', 'PORT="3000"', '']);
    expect(bootFile(script, '/etc/cdk-three-tier/start.sh').split('\n')).toContain('node dist/main.js');
    expect(script).toContain("'http://127.0.0.1:3000/ready'");
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 8000 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 3000, HealthCheckPath: '/ready' });
    const lbSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppLoadBalancerSecurityGroup').id;
    const instanceSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppInstanceSecurityGroup').id;
    expect(ingressRules(template, instanceSg)).toEqual([{ peer: `sg:${lbSg}`, protocol: 'tcp', fromPort: 3000, toPort: 3000 }]);
    // Standalone, nobody may call the internal load balancer until allowFrom is used.
    expect(ingressRules(template, lbSg)).toEqual([]);
    expect(app.loadBalancerConnections.defaultPort?.toString()).toBe('8000');
    expect(app.instanceConnections.defaultPort?.toString()).toBe('3000');
  });

  test('loadBalancerConnections is the internal load balancer\'s security group, instanceConnections the instances\'', () => {
    const { stack, app, template } = synthApp({ port: 3000 });
    const lbSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppLoadBalancerSecurityGroup').id;
    const instanceSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppInstanceSecurityGroup').id;
    const groupIds = (c: ec2.Connections) => c.securityGroups.map((sg) => refId(stack.resolve(sg.securityGroupId)));
    expect(groupIds(app.loadBalancerConnections)).toEqual([lbSg]);
    expect(groupIds(app.instanceConnections)).toEqual([instanceSg]);
    expect(app.loadBalancerConnections.defaultPort?.toString()).toBe('80');
    expect(app).not.toHaveProperty('connections');
  });

  test('allowFrom opens the listener port to a peer', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const app = new AppTier(stack, 'App', { vpc, source: API_SOURCE });
    const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc });
    app.allowFrom(peer);
    const template = Template.fromStack(stack);
    const lbSg = onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppLoadBalancerSecurityGroup').id;
    const peerId = stack.getLogicalId(peer.node.defaultChild as ec2.CfnSecurityGroup);
    expect(ingressRules(template, lbSg)).toEqual([{ peer: `sg:${peerId}`, protocol: 'tcp', fromPort: 80, toPort: 80 }]);
  });

  test('a bucket is passed as APP_BUCKET and may be read and written', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const bucket = new s3.Bucket(stack, 'Data');
    new AppTier(stack, 'App', { vpc, source: API_SOURCE, bucket });
    const template = Template.fromStack(stack);
    const script = launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id);
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    expect(bootFile(script, '/etc/cdk-three-tier/app.env').split('\n')).toContain(`APP_BUCKET="<<{"Ref":"${bucketId}"}>>"`);
    const role = onlyResource(template, 'AWS::IAM::Role', 'AppInstanceRole').id;
    const actions = roleStatements(template, role).filter((s) => JSON.stringify(s.resources).includes(bucketId)).flatMap((s) => s.actions);
    expect(actions.some((a) => a.startsWith('s3:GetObject'))).toBe(true);
    expect(actions.some((a) => a.startsWith('s3:PutObject'))).toBe(true);
  });

  test('grantBucketRead lets the instances read and list a bucket, not write it; grantBucketReadWrite adds writes', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const readOnly = new s3.Bucket(stack, 'ReadOnly');
    const readWrite = new s3.Bucket(stack, 'ReadWrite', { encryption: s3.BucketEncryption.KMS });
    const app = new AppTier(stack, 'App', { vpc, source: API_SOURCE });
    expect(app.grantBucketRead(readOnly).success).toBe(true);
    expect(app.grantBucketReadWrite(readWrite).success).toBe(true);
    const template = Template.fromStack(stack);
    const role = onlyResource(template, 'AWS::IAM::Role', 'AppInstanceRole').id;
    const actionsOn = (bucket: s3.Bucket) => {
      const id = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      return roleStatements(template, role).filter((s) => JSON.stringify(s.resources).includes(`"${id}"`)).flatMap((s) => s.actions).sort();
    };
    expect(actionsOn(readOnly)).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(actionsOn(readWrite)).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    const keyId = stack.getLogicalId(readWrite.encryptionKey!.node.defaultChild as cdk.CfnResource);
    expect(roleStatements(template, role).filter((s) => JSON.stringify(s.resources).includes(`"${keyId}"`)).flatMap((s) => s.actions).sort())
      .toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  test('metrics: target response time (average) and target 5xx (sum) over 5 minutes', () => {
    const { app } = synthApp();
    expect(app.metricTargetResponseTime()).toMatchObject({ metricName: 'TargetResponseTime', statistic: 'Average' });
    expect(app.metricTargetResponseTime().period.toMinutes()).toBe(5);
    expect(app.metricTarget5xxCount()).toMatchObject({ metricName: 'HTTPCode_Target_5XX_Count', statistic: 'Sum' });
    expect(app.metricTarget5xxCount().period.toMinutes()).toBe(5);
  });

  test('the standalone tier keeps its own access log bucket with the preset expiration', () => {
    const { template } = synthApp({ preset: PRESETS.staging() });
    const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const bucket = onlyResource(template, 'AWS::S3::Bucket', 'AppAccessLogBucket');
    expect(lb.properties.LoadBalancerAttributes).toContainEqual({ Key: 'access_logs.s3.bucket', Value: { Ref: bucket.id } });
    expect(bucket.properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(90);
    expect(refId(lb.properties.SecurityGroups[0])).toBe(onlyResource(template, 'AWS::EC2::SecurityGroup', 'AppLoadBalancerSecurityGroup').id);
  });
});
