import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Lazy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AppSource, AppTier, AppTierProps, renderNginxConfig, ThreeTierPlatform, ThreeTierPlatformProps, WebTier, WebTierProps } from '../src';
import { API_SOURCE, newStack, PRESETS } from './support/stacks';
import { bootFile, bootFiles, decodeShellArgs, launchTemplateUserData, onlyResource, resourcesOfType } from './support/template';

// Issue 8, findings 1 to 6: each sample the review found, shown rejected with a message that names the
// prop the user set, or carried safely. The hostile-input suite generalizes these.

function vpcStack(): { stack: Stack; vpc: ec2.Vpc } {
  const stack = newStack();
  return { stack, vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) };
}

function synthWeb(props: Partial<WebTierProps> = {}): { stack: Stack; web: WebTier; template: Template } {
  const { stack, vpc } = vpcStack();
  const web = new WebTier(stack, 'Web', { vpc, apiEndpoint: 'api.internal.example:80', preset: PRESETS.dev(), ...props });
  return { stack, web, template: Template.fromStack(stack) };
}

function synthApp(props: Partial<AppTierProps> = {}): { stack: Stack; app: AppTier; template: Template; script: string } {
  const { stack, vpc } = vpcStack();
  const app = new AppTier(stack, 'App', { vpc, source: API_SOURCE, preset: PRESETS.dev(), ...props });
  const template = Template.fromStack(stack);
  return { stack, app, template, script: launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id) };
}

function synthPlatform(props: Partial<ThreeTierPlatformProps> = {}, stack = newStack()): { stack: Stack; platform: ThreeTierPlatform } {
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset: PRESETS.dev(),
    ...props,
    app: { source: API_SOURCE, ...props.app },
    web: { allowHttpOnly: true, ...props.web },
  });
  return { stack, platform };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The library's error format: `<prop> (<value>) <allowed> in <path>`. */
const error = (prop: string, allowed = '') => new RegExp(`^${escape(prop)} \\(.*\\) .*${escape(allowed)}.* in [A-Za-z/]+`, 's');

function bashSyntax(script: string): { status: number | null; stderr: string } {
  const result = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('finding 1: nothing a user passes reaches the boot shell or NGINX as syntax', () => {
  test.each([
    ['a directive after the name', 'api.example.com; return 200 hacked'],
    ['a newline and a heredoc marker, then a root command', 'api.example.com\nCDK_THREE_TIER_EOF\ntouch /tmp/pwned'],
    ['a space', 'api example.com'],
    ['a variable', '$host'],
  ])('WebTier.apiTlsServerName with %s is refused', (_, value) => {
    expect(() => synthWeb({ apiTlsServerName: value })).toThrow(error('apiTlsServerName', 'must be a host name'));
  });

  test.each<[string, Record<string, unknown>]>([
    ['apiTlsTrustedCertificate', { apiTlsServerName: 'api.example.com', apiTlsTrustedCertificate: '/etc/ca.pem; return 200 x' }],
    ['listenAddress', { listenAddress: '127.0.0.1:80; return 200 x' }],
    ['staticRoot', { staticRoot: '/srv/www; autoindex on' }],
    ['user', { user: 'nobody; daemon off' }],
    ['pidFile', { pidFile: '/run/nginx.pid;\nload_module x' }],
    ['logDirectory', { logDirectory: '/var/log/nginx/../../etc' }],
    ['mimeTypesPath', { mimeTypesPath: '/etc/nginx/mime.types } server {' }],
    ['tempDirectory', { tempDirectory: 'relative/tmp' }],
    ['apiUpstreams', { apiUpstreams: ['a${Token[Fake.1]}; b:80'] }],
    ['apiUpstreams', { apiUpstreams: ['backend:80 backup; server evil'] }],
  ])('renderNginxConfig refuses a hostile %s', (prop, options) => {
    expect(() => renderNginxConfig({ apiUpstreams: ['api.internal:80'], ...options } as any)).toThrow(new RegExp(`^${prop} \\(`));
  });

  test('a domainName from a CloudFormation parameter never reaches proxy_ssl_name', () => {
    const stack = newStack();
    const domain = new CfnParameter(stack, 'Domain', { type: 'String' });
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => synthPlatform({ web: { domainName: domain.valueAsString, hostedZone } }, stack))
      .toThrow(error('web.domainName', 'not the CloudFormation parameter Domain'));
  });

  test('a load balancer attribute passes as the API endpoint and travels base64-encoded into the configuration', () => {
    const { platform, stack } = synthPlatform();
    const template = Template.fromStack(stack);
    const script = launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate', 'PlatformWebLaunchTemplate').id);
    expect(script).not.toMatch(/<<'?[A-Z_]*EOF/);
    const config = bootFile(script, '/etc/nginx/nginx.conf');
    expect(config).toMatch(/server <<\{"Fn::GetAtt":\["PlatformAppLoadBalancer[0-9A-F]+","DNSName"\]\}>>:80 max_fails/);
    expect(platform.web.nginxConfig).toContain('proxy_pass http://api_backend;');
  });
});

describe('finding 2: environment values reach the process byte for byte', () => {
  test('a trailing backslash stays in its value and the next variable survives', () => {
    const { script } = synthApp({ environment: { DATA_DIR: 'C:\\data\\', MODE: 'x' } });
    const env = bootFile(script, '/etc/cdk-three-tier/app.env').split('\n');
    expect(env).toContain('DATA_DIR="C:\\\\data\\\\"');
    expect(env).toContain('MODE="x"');
  });

  test.each(['PATH', 'LD_PRELOAD', 'ld_library_path', 'NODE_OPTIONS', 'BASH_ENV', 'DB_HOST', 'DB_USER', 'AWS_REGION', '1X', 'A-B', 'A B'])(
    'the name %s is refused', (name) => {
      expect(() => synthApp({ environment: { [name]: 'x' } })).toThrow(error('environment name'));
    });

  test('a NUL byte in a value is refused', () => {
    expect(() => synthApp({ environment: { X: 'a\0b' } })).toThrow(error('environment.X', 'NUL'));
  });

  test("'%' in startCommand reaches the shell as written: the unit holds no user text", () => {
    const { script } = synthApp({ startCommand: 'node server.js --greeting %Q%n$HOME \'quoted\'' });
    expect(bootFile(script, '/etc/cdk-three-tier/start.sh').split('\n')).toContain("node server.js --greeting %Q%n$HOME 'quoted'");
    const unit = bootFile(script, '/etc/systemd/system/app.service');
    expect(unit).toContain('ExecStart=/bin/sh /etc/cdk-three-tier/start.sh\n');
    expect(unit).not.toContain('%');
    expect(unit).not.toContain('greeting');
  });

  test.each(['', '   ', 'node a\nnode b', 'node\r'])('startCommand %j is refused', (command) => {
    expect(() => synthApp({ startCommand: command })).toThrow(error('startCommand', 'one non-empty line'));
  });
});

describe('finding 3: shell quoting', () => {
  test.each([["it's/", "'"], ['../', '..'], ['a/../b/', '..'], ['no-slash', 'ending'], ['/abs/', 'segment']])(
    'applicationBucket.seedPrefix %j is refused under the name the user set', (prefix) => {
      expect(() => synthPlatform({ applicationBucket: { seedAssetPath: __dirname, seedPrefix: prefix } }))
        .toThrow(error('applicationBucket.seedPrefix', 'S3 key prefix'));
    });

  test('every app and web boot script parses (bash -n) with a seed, a site and hostile-looking but valid values', () => {
    const { stack } = synthPlatform({
      applicationBucket: { seedAssetPath: __dirname, seedPrefix: 'seed/a-b_c.d/' },
      app: { source: API_SOURCE, environment: { QUOTE: "it's \"quoted\" $(id) `id` \\ %Q" }, startCommand: "node server.js 'x' \"y\" $(echo z)" },
    });
    const template = Template.fromStack(stack);
    for (const lt of resourcesOfType(template, 'AWS::EC2::LaunchTemplate')) {
      const script = launchTemplateUserData(template, lt.id);
      expect(bashSyntax(script)).toEqual({ status: 0, stderr: '' });
      expect(decodeShellArgs(script)).toMatch(lt.id.includes('App') ? /'s3:\/\/<<.*>>\/seed\/a-b_c\.d\/' --only-show-errors/ : /nginx -t/);
    }
  });
});

describe('finding 4: accepted at synth, broken at deploy or boot', () => {
  test.each([
    [['/ready', '/ready']],
    [['/nginx-health']],
  ])('publicPaths %j (duplicate NGINX locations) are refused as app.publicPaths', (paths) => {
    expect(() => synthPlatform({ app: { source: API_SOURCE, publicPaths: paths } })).toThrow(error('app.publicPaths', 'must not repeat'));
  });

  test('user data over 16 KB is refused at synth, with every token at its longest', () => {
    const paths = Array.from({ length: 100 }, (_, i) => `/api-v2/very-long-public-path-number-${i}/with/segments/${'x'.repeat(60)}`);
    expect(() => Template.fromStack(synthPlatform({ app: { source: API_SOURCE, publicPaths: paths } }).stack))
      .toThrow(/user data \(\d+ bytes with every token at its longest\) must be at most 16384 bytes .*Platform\/Web.*publicPaths/s);
  });

  test('the largest inline app still fits', () => {
    expect(() => synthApp({ source: AppSource.fromInline('x'.repeat(8192)) })).not.toThrow();
  });

  test('AppSource.fromAsset of a file that is not a zip is refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'not-zip-'));
    try {
      const file = path.join(dir, 'server.js');
      fs.writeFileSync(file, 'console.log(1)');
      expect(() => synthApp({ source: AppSource.fromAsset(file) })).toThrow(error('source', 'zip'));
      expect(() => synthApp({ source: AppSource.fromAsset(path.join(dir, 'missing')) })).toThrow(error('source', 'existing'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(['.', '..', 'a/b', 'a b', ''])('AppSource.fromInline(code, %j) is refused', (name) => {
    expect(() => synthApp({ source: AppSource.fromInline('x', name) })).toThrow(error('source file name', 'plain file name'));
  });

  test.each(['shop example.com', 'shop.example.com.;', 'com', '-a.example.com'])('web.domainName %j is refused', (domainName) => {
    const stack = newStack();
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => synthPlatform({ web: { domainName, hostedZone } }, stack)).toThrow(error('web.domainName', 'host name'));
  });

  test('a domain outside the hosted zone is refused', () => {
    const stack = newStack();
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => synthPlatform({ web: { domainName: 'shop.example.org', hostedZone } }, stack)).toThrow(error('web.domainName', "inside the hosted zone 'example.com'"));
    const other = newStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(other, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => synthPlatform({ web: { domainName: 'shop.notexample.com', hostedZone: zone } }, other)).toThrow(error('web.domainName', 'inside the hosted zone'));
  });
});

describe('finding 5: tokens', () => {
  test('capacities from a Lazy resolve at synth and keep the rolling update right', () => {
    const { template } = synthApp({ minCapacity: Lazy.number({ produce: () => 2 }), maxCapacity: Lazy.number({ produce: () => 4 }) });
    const asg = onlyResource(template, 'AWS::AutoScaling::AutoScalingGroup');
    expect(asg.properties).toMatchObject({ MinSize: '2', MaxSize: '4' });
    expect(asg.resource.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService).toBe(2);
  });

  test('a capacity from a CloudFormation parameter is refused instead of giving MinInstancesInService 0', () => {
    const { stack, vpc } = vpcStack();
    const min = new CfnParameter(stack, 'Min', { type: 'Number' });
    expect(() => new AppTier(stack, 'App', { vpc, source: API_SOURCE, minCapacity: min.valueAsNumber }))
      .toThrow(error('minCapacity', 'must be a literal number'));
  });

  test('nodeVersion from a Lazy resolves; from a parameter it is refused as non-literal', () => {
    expect(synthApp({ nodeVersion: Lazy.number({ produce: () => 24 }) }).script.split('\n')).toContain('dnf install -y nodejs24 unzip');
    const { stack, vpc } = vpcStack();
    const version = new CfnParameter(stack, 'Node', { type: 'Number' });
    expect(() => new AppTier(stack, 'App', { vpc, source: API_SOURCE, nodeVersion: version.valueAsNumber })).toThrow(error('nodeVersion', 'must be a literal number'));
  });

  test('projectName from a parameter is accepted and tagged', () => {
    const stack = newStack();
    const name = new CfnParameter(stack, 'Project', { type: 'String' });
    expect(() => synthPlatform({ projectName: name.valueAsString }, stack)).not.toThrow();
  });

  test('an environment value that is a resource attribute passes; a parameter is refused', () => {
    const { stack, vpc } = vpcStack();
    const param = new CfnParameter(stack, 'Flag', { type: 'String' });
    expect(() => new AppTier(stack, 'App', { vpc, source: API_SOURCE, environment: { VPC: vpc.vpcId } })).not.toThrow();
    expect(() => new AppTier(stack, 'App2', { vpc, source: API_SOURCE, environment: { FLAG: param.valueAsString } }))
      .toThrow(error('environment.FLAG', 'not the CloudFormation parameter Flag'));
  });
});

describe('finding 6: messages name the prop the user set', () => {
  test('a bad publicPaths entry is reported as app.publicPaths', () => {
    expect(() => synthPlatform({ app: { source: API_SOURCE, publicPaths: ['ready'] } })).toThrow(error('app.publicPaths', 'URL path'));
  });

  test('a bad domainName is reported as web.domainName, not as the internal API endpoint', () => {
    const stack = newStack();
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z1', zoneName: 'example.com' });
    expect(() => synthPlatform({ web: { domainName: 'bad_name.example.com', hostedZone } }, stack)).toThrow(error('web.domainName'));
  });
});

test('every file the boot scripts write is base64-encoded: no heredoc is left', () => {
  const { stack } = synthPlatform({ applicationBucket: { seedAssetPath: __dirname } });
  const template = Template.fromStack(stack);
  for (const lt of resourcesOfType(template, 'AWS::EC2::LaunchTemplate')) {
    const script = launchTemplateUserData(template, lt.id);
    expect(script).not.toMatch(/<<-?\s*'?[A-Za-z_]+'?\s*$/m);
    expect(script.split('\n').filter((l) => l.includes('cat >'))).toEqual([]);
    expect([...bootFiles(script).keys()].length).toBeGreaterThanOrEqual(3);
  }
});
