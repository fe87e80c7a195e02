import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AppSource, AppTier, Preset, ThreeTierPlatform, WebTier } from '../src';
import { findNginx, localNginxConfig, TestApps, tokenName } from './support/hostile';
import { argValues, effective, parseNginx, walk } from './support/nginx-parse';
import { SystemdEnvParser } from './support/systemd-env';
import { bootFile, bootFiles, ingressRules, launchTemplateUserData, onlyResource, resourcesOfType } from './support/template';

/*
 * Each security claim of the README (and of the API documentation, where the README is silent) about
 * the instances' boot, NGINX, TLS and systemd, checked so that the test fails when the claim is made
 * false: every checker is also run on a copy of the real output with the claim broken, and must
 * object. Each describe block quotes the sentence it guards.
 */

const apps = new TestApps();
const DOMAIN = 'shop.example.com';
const INTERNAL = `internal-api.${DOMAIN}`;
const START_COMMAND = "node server.js --greeting '100% $HOME'";

interface Synthesized {
  readonly stack: Stack;
  readonly platform: ThreeTierPlatform;
  readonly template: Template;
  readonly web: string;
  readonly app: string;
}

function synthPlatform(preset: 'dev' | 'staging' | 'prod'): Synthesized {
  const stack = apps.stack();
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' });
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset: { dev: Preset.dev, staging: Preset.staging, prod: Preset.prod }[preset](),
    app: { source: AppSource.fromInline("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);"), startCommand: START_COMMAND },
    web: preset === 'prod' ? { domainName: DOMAIN, hostedZone } : { allowHttpOnly: true },
  });
  const template = Template.fromStack(stack);
  const script = (prefix: string) => launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate', prefix).id, tokenName);
  return { stack, platform, template, web: script('PlatformWebLaunchTemplate'), app: script('PlatformAppLaunchTemplate') };
}

const platforms: Partial<Record<'dev' | 'staging' | 'prod', Synthesized>> = {};
const platformFor = (preset: 'dev' | 'staging' | 'prod') => (platforms[preset] ??= synthPlatform(preset));
const prod = () => platformFor('prod');

afterAll(() => apps.dispose());

/** Asserts the checker passes on the real output and objects to each broken copy. */
function expectClaim<T>(checker: (x: T) => string[], real: T, broken: Record<string, T>): void {
  expect(checker(real)).toEqual([]);
  for (const [how, copy] of Object.entries(broken)) {
    expect({ how, problems: checker(copy).length > 0 }).toEqual({ how, problems: true });
  }
}

/** The text with one occurrence of `from` replaced (fails when there is none, so a broken copy is never the original). */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`nothing to break: ${String(from)} is not in the text`);
  return out;
}

// =============================================================================================

describe('README: "With a domain, the traffic between NGINX and the internal ALB is TLS too (`internal-api.<domain>`), verified by NGINX."', () => {
  /** Every location that proxies goes over HTTPS and verifies the upstream's certificate for `name`. */
  function tlsProblems(config: string, name: string): string[] {
    const tree = parseNginx(config);
    const problems: string[] = [];
    const proxied = walk(tree).filter((w) => w.directive.name === 'location' && (w.directive.block ?? []).some((d) => d.name === 'proxy_pass'));
    if (proxied.length === 0) problems.push('no location proxies to the API');
    for (const { directive: location, parents } of proxied) {
      const where = `location ${location.args.map((a) => a.value).join(' ')}`;
      const chain = [...parents, location];
      const value = (d: string) => JSON.stringify(argValues(effective(tree, chain, d)));
      const pass = location.block!.filter((d) => d.name === 'proxy_pass').map((d) => d.args[0].value);
      if (!pass.every((p) => p.startsWith('https://'))) problems.push(`${where}: proxy_pass ${pass.join(', ')} is not HTTPS`);
      if (value('proxy_ssl_verify') !== '[["on"]]') problems.push(`${where}: proxy_ssl_verify ${value('proxy_ssl_verify')}`);
      if (value('proxy_ssl_name') !== JSON.stringify([[name]])) problems.push(`${where}: proxy_ssl_name ${value('proxy_ssl_name')}, not ${name}`);
      if (value('proxy_ssl_server_name') !== '[["on"]]') problems.push(`${where}: proxy_ssl_server_name ${value('proxy_ssl_server_name')} (no SNI)`);
      const ca = argValues(effective(tree, chain, 'proxy_ssl_trusted_certificate'));
      if (ca.length !== 1 || !/^\/\S+$/.test(ca[0][0] ?? '')) problems.push(`${where}: proxy_ssl_trusted_certificate ${JSON.stringify(ca)}`);
      const protocols = argValues(effective(tree, chain, 'proxy_ssl_protocols')).flat();
      if (protocols.length === 0 || !protocols.every((p) => p === 'TLSv1.2' || p === 'TLSv1.3')) problems.push(`${where}: proxy_ssl_protocols ${JSON.stringify(protocols)} (TLS 1.2+ only)`);
      for (const p of pass) {
        const upstream = walk(tree).find((w) => w.directive.name === 'upstream' && w.directive.args[0]?.value === p.replace(/^https?:\/\//, ''));
        const servers = (upstream?.directive.block ?? []).filter((d) => d.name === 'server').map((d) => d.args[0].value);
        if (servers.length === 0 || !servers.every((s) => s === `${name}:443`)) problems.push(`${where}: upstream servers ${JSON.stringify(servers)}, not ${name}:443`);
      }
    }
    return problems;
  }

  test('every API location proxies over HTTPS with proxy_ssl_verify on, proxy_ssl_name internal-api.<domain>, SNI, a CA bundle, TLS 1.2+ only', () => {
    const config = bootFile(prod().web, '/etc/nginx/nginx.conf');
    const firstApiLocation = /(\n\s*location \/api\/ \{\n)/;
    expectClaim((c: string) => tlsProblems(c, INTERNAL), config, {
      'verification off': replaceOnce(config, 'proxy_ssl_verify on;', 'proxy_ssl_verify off;'),
      'verification dropped': replaceOnce(config, /\n\s*proxy_ssl_verify on;/, ''),
      'verification off in one location': replaceOnce(config, firstApiLocation, '$1      proxy_ssl_verify off;\n'),
      'another name': replaceOnce(config, `proxy_ssl_name ${INTERNAL};`, 'proxy_ssl_name example.com;'),
      'no SNI': replaceOnce(config, 'proxy_ssl_server_name on;', 'proxy_ssl_server_name off;'),
      'TLS 1.0 allowed': replaceOnce(config, 'proxy_ssl_protocols TLSv1.2 TLSv1.3;', 'proxy_ssl_protocols TLSv1 TLSv1.2 TLSv1.3;'),
      'plain HTTP': replaceOnce(config, 'proxy_pass https://api_backend;', 'proxy_pass http://api_backend;'),
      'no CA bundle': replaceOnce(config, /\n\s*proxy_ssl_trusted_certificate [^;]*;/, ''),
    });
  });

  test('the internal ALB listens with HTTPS on 443 and a DNS-validated certificate for internal-api.<domain>', () => {
    const { template, platform, stack } = prod();
    const appLb = stack.getLogicalId(platform.app.loadBalancer.node.defaultChild as any);
    const listener = resourcesOfType(template, 'AWS::ElasticLoadBalancingV2::Listener').find((l) => l.properties.LoadBalancerArn?.Ref === appLb)!;
    expect(listener.properties).toMatchObject({ Protocol: 'HTTPS', Port: 443 });
    const certificateId = listener.properties.Certificates[0].CertificateArn.Ref;
    expect(template.toJSON().Resources[certificateId].Properties).toMatchObject({ DomainName: INTERNAL, ValidationMethod: 'DNS' });
    expect(platform.app.tlsServerName).toBe(INTERNAL);
  });

  test('live: NGINX refuses an upstream certificate for another name or from an untrusted CA, and accepts the right one', async () => {
    const certs = makeCertificates(INTERNAL);
    const config = bootFile(prod().web, '/etc/nginx/nginx.conf');
    const results: Record<string, number> = {};
    for (const [scenario, key, cert] of [
      ['right name, trusted CA', certs.goodKey, certs.good],
      ['another name, trusted CA', certs.wrongKey, certs.wrong],
      ['right name, untrusted (self-signed)', certs.selfKey, certs.self],
    ] as Array<[string, string, string]>) {
      const upstream = https.createServer({ key, cert }, (_req, res) => res.end('upstream-ok'));
      const upstreamPort = await listen(upstream);
      try {
        await withNginx(config, { upstream: `127.0.0.1:${upstreamPort}`, caFile: certs.caFile }, async (port) => {
          results[scenario] = (await get(port, '/api/ping')).status;
        });
      } finally {
        await new Promise((r) => upstream.close(r));
      }
    }
    expect(results).toEqual({
      'right name, trusted CA': 200,
      'another name, trusted CA': 502,
      'right name, untrusted (self-signed)': 502,
    });
  }, 60_000);
});

// =============================================================================================

describe('README: "IMDSv2 required (hop limit 1) on every launch template; encrypted gp3 root volumes; no key pairs, no SSH ingress, no public IPs on instances (access through Session Manager)."', () => {
  function launchTemplateProblems(template: any): string[] {
    const problems: string[] = [];
    const lts = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::EC2::LaunchTemplate');
    if (lts.length < 2) problems.push(`${lts.length} launch templates`);
    for (const [id, lt] of lts) {
      const data = lt.Properties.LaunchTemplateData;
      if (data.MetadataOptions?.HttpTokens !== 'required' || data.MetadataOptions?.HttpPutResponseHopLimit !== 1) problems.push(`${id}: metadata options ${JSON.stringify(data.MetadataOptions)}`);
      const disks = data.BlockDeviceMappings ?? [];
      if (disks.length === 0 || !disks.every((d: any) => d.Ebs?.Encrypted === true && d.Ebs?.VolumeType === 'gp3')) problems.push(`${id}: volumes ${JSON.stringify(disks)}`);
      if (data.KeyName !== undefined || data.KeyPair !== undefined) problems.push(`${id}: a key pair`);
      const nics = data.NetworkInterfaces ?? [];
      if (nics.length === 0 || !nics.every((n: any) => n.AssociatePublicIpAddress === false)) problems.push(`${id}: network interfaces ${JSON.stringify(nics)}`);
    }
    return problems;
  }

  /** No security group admits TCP 22 (or all traffic) from anywhere but another security group of the stack. */
  function sshProblems(t: Template): string[] {
    const problems: string[] = [];
    for (const sg of resourcesOfType(t, 'AWS::EC2::SecurityGroup')) {
      for (const rule of ingressRules(t, sg.id)) {
        const all = rule.protocol === '-1';
        const covers22 = rule.protocol === 'tcp' && Number(rule.fromPort) <= 22 && Number(rule.toPort) >= 22;
        if (all || covers22) problems.push(`${sg.id}: ingress ${JSON.stringify(rule)}`);
      }
    }
    return problems;
  }

  test.each(['dev', 'staging', 'prod'] as const)('%s: every launch template requires IMDSv2 (hop limit 1), encrypted gp3 volumes, no key pair, no public IP', (preset) => {
    const json = platformFor(preset).template.toJSON();
    const copy = () => JSON.parse(JSON.stringify(json));
    const firstLt = (t: any) => Object.values<any>(t.Resources).find((r) => r.Type === 'AWS::EC2::LaunchTemplate').Properties.LaunchTemplateData;
    const broken = (edit: (data: any) => void) => {
      const t = copy();
      edit(firstLt(t));
      return t;
    };
    expectClaim(launchTemplateProblems, json, {
      'IMDSv1 allowed': broken((d) => { d.MetadataOptions.HttpTokens = 'optional'; }),
      'hop limit 2': broken((d) => { d.MetadataOptions.HttpPutResponseHopLimit = 2; }),
      'unencrypted volume': broken((d) => { d.BlockDeviceMappings[0].Ebs.Encrypted = false; }),
      'gp2 volume': broken((d) => { d.BlockDeviceMappings[0].Ebs.VolumeType = 'gp2'; }),
      'a key pair': broken((d) => { d.KeyName = 'ops'; }),
      'a public IP': broken((d) => { d.NetworkInterfaces[0].AssociatePublicIpAddress = true; }),
    });
  });

  test.each(['dev', 'staging', 'prod'] as const)('%s: no security group admits SSH', (preset) => {
    const { template } = platformFor(preset);
    expect(sshProblems(template)).toEqual([]);
    const json = template.toJSON();
    const sg = resourcesOfType(template, 'AWS::EC2::SecurityGroup')[0];
    json.Resources.OpenSsh = { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: { 'Fn::GetAtt': [sg.id, 'GroupId'] }, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' } };
    expect(sshProblems(Template.fromJSON(json))).not.toEqual([]);
  });

  test.each(['dev', 'staging', 'prod'] as const)('%s: instances have no public IP (the NAT instance of NatMode.instance() aside, acknowledged as natInstance)', (preset) => {
    const { template } = platformFor(preset);
    const withPublicIp = resourcesOfType(template, 'AWS::EC2::Instance')
      .filter((i) => i.properties.AssociatePublicIpAddress === true
        || (i.properties.NetworkInterfaces ?? []).some((n: any) => n.AssociatePublicIpAddress === true))
      .map((i) => i.id);
    expect(withPublicIp.filter((id) => !/NatInstance/.test(id))).toEqual([]);
    expect(withPublicIp.length).toBe(preset === 'dev' ? withPublicIp.length : 0);
  });
});

// =============================================================================================

const WRITE_LINE = /^printf '%s' [A-Za-z0-9+/=]* \| base64 -d > '\/[A-Za-z0-9_./-]+'$/;

describe('README: "every file the boot scripts write (NGINX configuration, systemd units, the environment file, the start script, inline app code) travels base64-encoded and is decoded into place, so no byte of it is read as shell"', () => {
  /** Every line that writes a file is the base64 form; no heredoc, no other redirection into a file. */
  function writeProblems(script: string): string[] {
    const problems: string[] = [];
    script.split('\n').forEach((line, i) => {
      if (WRITE_LINE.test(line)) return;
      if (/<</.test(line)) problems.push(`line ${i + 1}: a heredoc: ${line.slice(0, 120)}`);
      const redirect = line.replace(/\d?>\s*\/dev\/null|\d?>&\d/g, '');
      if (/>/.test(redirect) || /\btee\b/.test(line)) problems.push(`line ${i + 1}: writes a file outside the base64 form: ${line.slice(0, 120)}`);
    });
    return problems;
  }

  test('the web and app scripts write every file through base64, and write the files the sentence names', () => {
    const { web: webScript, app } = prod();
    expect([...bootFiles(webScript).keys()]).toEqual(expect.arrayContaining(['/etc/nginx/nginx.conf', '/etc/systemd/system/nginx-reresolve.service', '/etc/systemd/system/nginx-reresolve.timer']));
    expect([...bootFiles(app).keys()]).toEqual(expect.arrayContaining(['/etc/systemd/system/app.service', '/etc/cdk-three-tier/app.env', '/etc/cdk-three-tier/start.sh', '/opt/app/server.js']));
    for (const script of [webScript, app]) {
      const config = script.split('\n').find((l) => WRITE_LINE.test(l))!;
      const path_ = /> '([^']+)'$/.exec(config)![1];
      expectClaim(writeProblems, script, {
        'a heredoc': replaceOnce(script, config, `cat > '${path_}' <<'EOF'\nx\nEOF`),
        'an echo into the file': replaceOnce(script, config, `echo "x" > '${path_}'`),
        'tee': replaceOnce(script, config, `printf x | tee '${path_}'`),
      });
    }
  });
});

describe('README: "every other value on a boot command line is quoted by one tested function (tokens are decoded at boot, never parsed)"', () => {
  /** Every CloudFormation intrinsic in the user data sits inside Fn::Base64 (CDK's own pseudo-parameter references aside). */
  function rawTokenProblems(userData: any): string[] {
    const problems: string[] = [];
    const visit = (v: any, encoded: boolean) => {
      if (Array.isArray(v)) return v.forEach((x) => visit(x, encoded));
      if (!v || typeof v !== 'object') return;
      const [fn] = Object.keys(v);
      if (fn === 'Fn::Base64') return visit(v[fn], true);
      if (fn === 'Fn::Join') return visit(v[fn][1], encoded);
      if (!encoded && !(fn === 'Ref' && /^AWS::(StackName|Region|URLSuffix|Partition)$/.test(v[fn]))) problems.push(`a token parsed by the shell: ${JSON.stringify(v)}`);
    };
    visit(userData['Fn::Base64'] ?? userData, false);
    return problems;
  }

  test('no token of the web and app user data is read by the shell as text', () => {
    const { template } = prod();
    for (const prefix of ['PlatformWebLaunchTemplate', 'PlatformAppLaunchTemplate']) {
      const userData = onlyResource(template, 'AWS::EC2::LaunchTemplate', prefix).properties.LaunchTemplateData.UserData;
      const broken = { 'Fn::Base64': { 'Fn::Join': ['', [userData['Fn::Base64'], '\ncurl ', { 'Fn::GetAtt': ['Lb', 'DNSName'] }]] } };
      expectClaim(rawTokenProblems, userData, { 'a raw attribute on a command line': broken });
    }
    // The app's user data does carry tokens (the database endpoint, the region): all of them encoded.
    expect(JSON.stringify(onlyResource(template, 'AWS::EC2::LaunchTemplate', 'PlatformAppLaunchTemplate').properties.LaunchTemplateData.UserData)).toMatch(/Fn::GetAtt/);
  });
});

describe('README: "Every string that reaches NGINX, systemd or a shell is checked at synth time by its grammar (...), under the name of the prop you set; tokens are accepted only where they stand for values AWS generates, never for a CloudFormation parameter."', () => {
  // test/hostile-input.test.ts tries thousands of inputs on every such prop; these are the platform's
  // renamed props and the token rule, one sample each.
  const platform = (stack: Stack, props: any) => new ThreeTierPlatform(stack, 'Platform', {
    preset: Preset.dev(),
    app: { source: AppSource.fromInline('x'), ...props.app },
    web: { allowHttpOnly: true, ...props.web },
    ...(props.applicationBucket ? { applicationBucket: props.applicationBucket } : {}),
  });
  const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' });

  test.each([
    ['app.publicPaths', (s: Stack) => platform(s, { app: { publicPaths: ['/ready; return 200 hacked'] } }), /^app\.publicPaths \(.*\) .* in Stack\/Platform$/s],
    ['web.domainName', (s: Stack) => platform(s, { web: { domainName: 'shop.example.com; return 200 hacked', hostedZone: zone(s) } }), /^web\.domainName \(.*\) must be a host name.* in Stack\/Platform$/s],
    ['applicationBucket.seedPrefix', (s: Stack) => platform(s, { applicationBucket: { seedPrefix: "a'$(id)/" } }), /^applicationBucket\.seedPrefix \(.*\) .* in Stack\/Platform$/s],
    ['app.environment (a name)', (s: Stack) => platform(s, { app: { environment: { LD_PRELOAD: '/tmp/x.so' } } }), /^environment name \('LD_PRELOAD'\) must not be a name the system gives a meaning to.* in Stack\/Platform\/App$/s],
  ])('%s: a value that would be syntax is refused under that name', (_, build, message) => {
    expect(() => build(apps.stack())).toThrow(message);
  });

  test.each([
    ['web.domainName', (s: Stack, p: string) => platform(s, { web: { domainName: p, hostedZone: zone(s) } }), /^web\.domainName \(.*\) .*not the CloudFormation parameter Input/s],
    ['app.environment value', (s: Stack, p: string) => platform(s, { app: { environment: { X: p } } }), /^environment\.X \(.*\) .*not the CloudFormation parameter Input/s],
    ['app.startCommand', (s: Stack, p: string) => platform(s, { app: { startCommand: p } }), /^startCommand \(.*\) must be a literal/s],
    ['WebTier apiEndpoint', (s: Stack, p: string) => web(s, { apiEndpoint: `${p}:80` }), /^apiEndpoint \(.*\) .*not the CloudFormation parameter Input/s],
    ['WebTier apiTlsServerName', (s: Stack, p: string) => web(s, { apiTlsServerName: p }), /^apiTlsServerName \(.*\) .*not the CloudFormation parameter Input/s],
  ])('%s: a CloudFormation parameter is refused', (_, build, message) => {
    const stack = apps.stack();
    expect(() => build(stack, new CfnParameter(stack, 'Input').valueAsString)).toThrow(message);
  });

  test('a resource attribute is accepted where a parameter is refused (the rule is not "no tokens")', () => {
    const stack = apps.stack();
    expect(() => web(stack, { apiEndpoint: `${Fn.getAtt('InternalLb', 'DNSName').toString()}:80` })).not.toThrow();
  });
});

function web(stack: Stack, props: any): WebTier {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-11111111', 'subnet-22222222'], publicSubnetIds: ['subnet-33333333', 'subnet-44444444'],
  });
  return new WebTier(stack, 'Web', { vpc, preset: Preset.dev(), apiEndpoint: 'api.internal.example:80', ...props });
}

describe('README: "Environment values reach the API byte for byte (escaped for systemd\'s environment-file grammar; a test reads them back with systemd\'s own parser), names such as `PATH` or `LD_*` are refused"', () => {
  let systemd: SystemdEnvParser;
  beforeAll(() => { systemd = SystemdEnvParser.create(); });
  afterAll(() => systemd?.dispose());

  test('systemd reads back exactly the values the app tier was given (see test/env-roundtrip.test.ts for the process itself)', () => {
    const environment = { WIN: 'C:\\data\\', QUOTES: '"\'`', DOLLAR: '$HOME ${X} $(id)', PERCENT: '%Q %%', NL: 'a\nb', SP: '  x  ', UNI: 'Grüße 🎉' };
    const stack = apps.stack();
    new AppTier(stack, 'Api', {
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-11111111'] }),
      preset: Preset.dev(),
      waf: false,
      source: AppSource.fromInline('x'),
      environment,
    });
    const template = Template.fromStack(stack);
    const file = bootFile(launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id, tokenName), '/etc/cdk-three-tier/app.env');
    const check = (content: string) => {
      const [parsed] = systemd.parse([content]);
      const got = Object.fromEntries(parsed.entries);
      return parsed.status === 0 && Object.entries(environment).every(([k, v]) => got[k] === v) ? [] : [`systemd reads ${JSON.stringify(got)}`];
    };
    expectClaim(check, file, {
      'unescaped (the old format)': Object.entries(environment).map(([k, v]) => `${k}=${v}`).join('\n'),
      'single-quoted': Object.entries(environment).map(([k, v]) => `${k}='${v}'`).join('\n'),
    });
  });

  test.each(['PATH', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'ld_audit', 'NODE_OPTIONS', 'BASH_ENV'])('the name %s is refused', (name) => {
    const stack = apps.stack();
    expect(() => new AppTier(stack, 'Api', {
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-11111111'] }),
      source: AppSource.fromInline('x'),
      environment: { [name]: '/tmp/x' },
    })).toThrow(new RegExp(`^environment name \\('${name}'\\) must not be a name the system gives a meaning to`));
  });
});

describe('README: "the start command runs from a script file, so systemd never interprets `%` or `$` in it"', () => {
  function startProblems(files: { unit: string; start: string }): string[] {
    const problems: string[] = [];
    const exec = files.unit.split('\n').filter((l) => l.startsWith('ExecStart='));
    if (JSON.stringify(exec) !== JSON.stringify(['ExecStart=/bin/sh /etc/cdk-three-tier/start.sh'])) problems.push(`the unit starts ${JSON.stringify(exec)}`);
    if (/[%$]/.test(files.unit)) problems.push('the unit holds % or $, which systemd expands');
    if (files.start.split('\n')[2] !== START_COMMAND) problems.push(`the start script's command line is ${JSON.stringify(files.start.split('\n')[2])}`);
    return problems;
  }

  test('app.service runs /bin/sh on the start script, which holds the command as written', () => {
    const { app } = prod();
    const files = { unit: bootFile(app, '/etc/systemd/system/app.service'), start: bootFile(app, '/etc/cdk-three-tier/start.sh') };
    expectClaim(startProblems, files, {
      'the command in ExecStart': { ...files, unit: replaceOnce(files.unit, 'ExecStart=/bin/sh /etc/cdk-three-tier/start.sh', `ExecStart=/bin/sh -c "${START_COMMAND}"`) },
      'the command changed on its way': { ...files, start: replaceOnce(files.start, START_COMMAND, START_COMMAND.replace('%', '%%')) },
    });
  });
});

describe('README: "User data is checked against EC2\'s 16 KB limit at synth, with every token at its longest."', () => {
  const tier = (stack: Stack, environment: Record<string, string>) => new AppTier(stack, 'Api', {
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-12345678', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-11111111'] }),
    preset: Preset.dev(),
    waf: false,
    source: AppSource.fromInline('x'),
    environment,
  });

  test('over 16 KB of literal text is refused at synth', () => {
    const stack = apps.stack();
    tier(stack, { BIG: 'x'.repeat(17 * 1024) });
    expect(() => Template.fromStack(stack)).toThrow(/user data \(\d+ bytes with every token at its longest\) must be at most 16384 bytes/);
  });

  test('tokens count at their longest: short in the template, refused because each may resolve to 256 bytes', () => {
    const stack = apps.stack();
    const environment = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`ID${i}`, Fn.getAtt(`Resource${i}`, 'Arn').toString()]));
    tier(stack, environment);
    expect(() => Template.fromStack(stack)).toThrow(/user data \(\d+ bytes with every token at its longest\) must be at most 16384 bytes/);
    // The same variables with short literal values fit.
    const fits = apps.stack();
    tier(fits, Object.fromEntries(Object.keys(environment).map((k) => [k, 'arn:aws:x'])));
    expect(() => Template.fromStack(fits)).not.toThrow();
  });
});

// =============================================================================================

describe('API docs (AppTier): "running the user\'s API under systemd as an unprivileged user, restarted on failure"; renderAppUnit: "unprivileged, sandboxed, restarted on failure"', () => {
  function unitProblems(unit: string): string[] {
    const problems: string[] = [];
    const settings = unit.split('\n').filter((l) => /^[A-Za-z]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
    const values = (k: string) => settings.filter(([key]) => key === k).map(([, v]) => v);
    const expectOne = (k: string, v: string) => { if (JSON.stringify(values(k)) !== JSON.stringify([v])) problems.push(`${k}=${JSON.stringify(values(k))}, intended ${v}`); };
    expectOne('User', 'app');
    expectOne('Group', 'app');
    expectOne('NoNewPrivileges', 'yes');
    expectOne('ProtectSystem', 'strict');
    expectOne('ProtectHome', 'yes');
    expectOne('PrivateTmp', 'yes');
    expectOne('Restart', 'on-failure');
    for (const exec of settings.filter(([k]) => k.startsWith('Exec'))) {
      if (/^[-@:]*[+!]/.test(exec[1])) problems.push(`${exec[0]} runs with full privileges: ${exec[1]}`);
    }
    for (const [k] of settings) {
      if (['AmbientCapabilities', 'PermissionsStartOnly', 'DynamicUser', 'SupplementaryGroups'].includes(k)) problems.push(`${k} is set`);
    }
    return problems;
  }

  test('app.service: User=app, NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp, Restart=on-failure, nothing run privileged', () => {
    const unit = bootFile(prod().app, '/etc/systemd/system/app.service');
    expectClaim(unitProblems, unit, {
      'root': replaceOnce(unit, 'User=app', 'User=root'),
      'no NoNewPrivileges': replaceOnce(unit, 'NoNewPrivileges=yes\n', ''),
      'ProtectSystem=full': replaceOnce(unit, 'ProtectSystem=strict', 'ProtectSystem=full'),
      'a privileged ExecStart': replaceOnce(unit, 'ExecStart=/bin/sh', 'ExecStart=+/bin/sh'),
      'an ambient capability': replaceOnce(unit, 'NoNewPrivileges=yes', 'NoNewPrivileges=yes\nAmbientCapabilities=CAP_NET_BIND_SERVICE'),
      'no restart': replaceOnce(unit, 'Restart=on-failure', 'Restart=no'),
    });
  });

  test("systemd's own security analysis of app.service (offline) sees a non-root user, no new privileges, a read-only OS, no home, a private /tmp", () => {
    const analyze = (unit: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unit-'));
      try {
        fs.writeFileSync(path.join(dir, 'app.service'), unit);
        const result = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(dir, 'app.service')], { encoding: 'utf8', env: { ...process.env, SYSTEMD_COLORS: '0' } });
        if (result.error) throw new Error(`systemd-analyze could not run (install systemd): ${result.error.message}`);
        return result.stdout;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const check = (unit: string) => {
      const out = analyze(unit);
      const problems = ['User=/DynamicUser=', 'NoNewPrivileges=', 'ProtectSystem=', 'ProtectHome=', 'PrivateTmp=']
        .filter((setting) => !out.split('\n').some((l) => l.startsWith(`✓ ${setting} `)))
        .map((setting) => `systemd-analyze security does not pass ${setting}`);
      const exposure = Number(/Overall exposure level for app\.service: ([0-9.]+)/.exec(out)?.[1]);
      // 8.5 today; hardening may lower it, nothing may raise it.
      if (!(exposure <= 8.5)) problems.push(`exposure ${exposure} (at most 8.5)`);
      return problems;
    };
    const unit = bootFile(prod().app, '/etc/systemd/system/app.service');
    expectClaim(check, unit, {
      'root': replaceOnce(unit, 'User=app\nGroup=app\n', ''),
      'no NoNewPrivileges': replaceOnce(unit, 'NoNewPrivileges=yes\n', ''),
    });
  });

  test('the app user is a system user without a shell, and cannot change its code, start script, unit or environment', () => {
    const { app } = prod();
    const check = (script: string) => {
      const lines = script.split('\n');
      const problems: string[] = [];
      const need = [
        'id app >/dev/null 2>&1 || useradd --system --home-dir /opt/app --shell /sbin/nologin app',
        'chown -R root:app /opt/app',
        'chmod -R u=rwX,g=rX,o= /opt/app',
        "chown 'root:root' '/etc/cdk-three-tier/start.sh'",
        "chmod 0755 '/etc/cdk-three-tier/start.sh'",
        "chown 'root:root' '/etc/systemd/system/app.service'",
        "chown 'root:app' '/etc/cdk-three-tier/app.env'",
        "chmod 0640 '/etc/cdk-three-tier/app.env'",
      ];
      for (const l of need) if (!lines.includes(l)) problems.push(`missing: ${l}`);
      return problems;
    };
    expectClaim(check, app, {
      'the app owns its code': replaceOnce(app, 'chown -R root:app /opt/app', 'chown -R app:app /opt/app'),
      'a login shell': replaceOnce(app, '--shell /sbin/nologin', '--shell /bin/bash'),
      'the app owns its start script': replaceOnce(app, "chown 'root:root' '/etc/cdk-three-tier/start.sh'", "chown 'app:app' '/etc/cdk-three-tier/start.sh'"),
    });
  });
});

describe('API docs (renderNginxConfig): "sets security headers"; and NGINX does not announce its version (server_tokens off)', () => {
  const HEADERS: Array<[string, string]> = [
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ['Referrer-Policy', 'strict-origin-when-cross-origin'],
  ];

  /** Every location's headers in effect (NGINX inherits add_header only into blocks that set none) include the three, with `always`. */
  function headerProblems(config: string): string[] {
    const tree = parseNginx(config);
    const problems: string[] = [];
    const locations = walk(tree).filter((w) => w.directive.name === 'location');
    if (locations.length === 0) problems.push('no location');
    for (const { directive, parents } of locations) {
      const set = argValues(effective(tree, [...parents, directive], 'add_header'));
      for (const [name, value] of HEADERS) {
        if (!set.some((a) => a[0] === name && a[1] === value && a[2] === 'always')) problems.push(`location ${directive.args.map((a) => a.value).join(' ')}: no ${name}: ${value} (always)`);
      }
    }
    const servers = walk(tree).filter((w) => w.directive.name === 'server' && w.parents.some((p) => p.name === 'http'));
    for (const { directive, parents } of servers) {
      if (JSON.stringify(argValues(effective(tree, [...parents, directive], 'server_tokens'))) !== '[["off"]]') problems.push('server_tokens is not off');
    }
    return problems;
  }

  test('every location sends the three headers (also on errors) and server_tokens is off', () => {
    const config = bootFile(prod().web, '/etc/nginx/nginx.conf');
    expectClaim(headerProblems, config, {
      'a location with its own add_header (drops the inherited ones)': replaceOnce(config, /(\n\s*location \/ \{\n)/, '$1      add_header Cache-Control no-store;\n'),
      'not on errors': replaceOnce(config, 'add_header X-Frame-Options "DENY" always;', 'add_header X-Frame-Options "DENY";'),
      'a header dropped': replaceOnce(config, /\n\s*add_header Referrer-Policy [^;]*;/, ''),
      'server_tokens on': replaceOnce(config, 'server_tokens off;', 'server_tokens on;'),
    });
  });

  test('live: the site, the health check and an API error all carry the headers, and Server names no version', async () => {
    const config = bootFile(prod().web, '/etc/nginx/nginx.conf');
    const closedPort = await freePort();
    await withNginx(config, { upstream: `127.0.0.1:${closedPort}` }, async (port) => {
      const responses = { site: await get(port, '/'), health: await get(port, '/nginx-health'), apiError: await get(port, '/api/x') };
      expect(Object.fromEntries(Object.entries(responses).map(([k, r]) => [k, r.status]))).toEqual({ site: 200, health: 200, apiError: 502 });
      for (const r of Object.values(responses)) {
        for (const [name, value] of HEADERS) expect(r.headers[name.toLowerCase()]).toBe(value);
        expect(r.headers.server).toBe('nginx');
      }
    });
  }, 60_000);
});

// =============================================================================================
// Live NGINX

interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, urlPath: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject);
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${log()}`);
}

/**
 * Runs NGINX in the foreground on the configuration as the instance gets it (paths, the upstream
 * address and the CA bundle pointed at this machine, see `localNginxConfig`), calls `use`, then stops it.
 */
async function withNginx(config: string, overrides: { upstream: string; caFile?: string }, use: (port: number) => Promise<void>): Promise<void> {
  const nginx = findNginx();
  if (!nginx) throw new Error('nginx is not installed (e.g. apt-get install -y nginx): the NGINX claims cannot be checked live');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nginx-live-'));
  const html = path.join(dir, 'html');
  fs.mkdirSync(html);
  fs.writeFileSync(path.join(html, 'index.html'), '<!doctype html><title>site</title>\n');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'nginx.conf'), localNginxConfig(config, dir, port, { ...overrides, root: html }));
  const child = spawn(nginx, ['-p', `${dir}/`, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const log = () => `${output}${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`;
  try {
    await waitForPort(port, child, log);
    await use(port);
  } finally {
    const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
    child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A CA, a certificate it signed for `name`, one it signed for another name, and a self-signed one for `name` (openssl). */
function makeCertificates(name: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
  const script = [
    'set -e',
    'key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }',
    'key ca.key; key good.key; key wrong.key; key self.key',
    'openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj /CN=test-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign',
    'sign() { openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"; printf "subjectAltName=DNS:%s\\n" "$2" > "$1.ext"; openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem" 2>/dev/null; }',
    `sign good '${name}'`,
    "sign wrong 'other.example.com'",
    `openssl req -x509 -new -key self.key -out self.pem -days 2 -subj '/CN=${name}' -addext 'subjectAltName=DNS:${name}'`,
  ].join('\n');
  const result = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`making test certificates with openssl failed (apt-get install -y openssl): ${result.error?.message ?? result.stderr}`);
  }
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  afterAllCleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    caFile: path.join(dir, 'ca.pem'),
    good: read('good.pem'),
    goodKey: read('good.key'),
    wrong: read('wrong.pem'),
    wrongKey: read('wrong.key'),
    self: read('self.pem'),
    selfKey: read('self.key'),
  };
}

const afterAllCleanups: Array<() => void> = [];
afterAll(() => afterAllCleanups.forEach((c) => c()));

describe('README: "WAF (AWS managed rule groups) with logging on both load balancers"', () => {
  /** Problems: load balancers without a web ACL that has managed rule groups and a logging configuration. */
  const wafProblems = (template: any): string[] => {
    const resources = Object.entries<any>(template.Resources);
    const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
    const acls = new Map(ofType('AWS::WAFv2::WebACL').map(([id, r]) => [id, r]));
    const logged = new Set(ofType('AWS::WAFv2::LoggingConfiguration').map(([, r]) => JSON.stringify(r.Properties.ResourceArn)));
    const problems: string[] = [];
    for (const [lbId] of ofType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      const associations = ofType('AWS::WAFv2::WebACLAssociation').filter(([, a]) => JSON.stringify(a.Properties.ResourceArn).includes(`"${lbId}"`));
      if (associations.length !== 1) { problems.push(`${lbId}: ${associations.length} web ACLs`); continue; }
      const aclRef = associations[0][1].Properties.WebACLArn;
      const aclId = aclRef['Fn::GetAtt']?.[0];
      const acl = acls.get(aclId);
      const managed = (acl?.Properties.Rules ?? []).filter((r: any) => r.Statement?.ManagedRuleGroupStatement?.VendorName === 'AWS');
      if (managed.length === 0) problems.push(`${lbId}: no AWS managed rule group`);
      if (!logged.has(JSON.stringify(aclRef))) problems.push(`${lbId}: web ACL ${aclId} is not logged`);
    }
    return problems;
  };

  test.each(['dev', 'staging', 'prod'] as const)('%s: each of the two load balancers has a web ACL with AWS managed rule groups, and the ACL is logged', (preset) => {
    const template = platformFor(preset).template.toJSON();
    expect(resourcesOfType(platformFor(preset).template, 'AWS::ElasticLoadBalancingV2::LoadBalancer')).toHaveLength(2);
    const noLogging = JSON.parse(JSON.stringify(template));
    for (const [id, r] of Object.entries<any>(noLogging.Resources)) if (r.Type === 'AWS::WAFv2::LoggingConfiguration') delete noLogging.Resources[id];
    const noManaged = JSON.parse(JSON.stringify(template));
    for (const r of Object.values<any>(noManaged.Resources)) if (r.Type === 'AWS::WAFv2::WebACL') r.Properties.Rules = [];
    expectClaim(wafProblems, template, { 'logging removed': noLogging, 'managed rule groups removed': noManaged });
  });
});

describe('README: "Every bucket blocks public access and denies requests without TLS 1.2+."', () => {
  /** Problems: buckets whose policy lacks a deny of plain HTTP or of TLS below 1.2. */
  const tlsProblems = (template: any): string[] => {
    const resources = Object.entries<any>(template.Resources);
    const problems: string[] = [];
    for (const [bucketId] of resources.filter(([, r]) => r.Type === 'AWS::S3::Bucket')) {
      const statements = resources
        .filter(([, r]) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket?.Ref === bucketId)
        .flatMap(([, r]) => r.Properties.PolicyDocument.Statement);
      const denies = statements.filter((s: any) => s.Effect === 'Deny' && s.Principal?.AWS === '*' && s.Action === 's3:*');
      if (!denies.some((s: any) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false')) problems.push(`${bucketId}: plain HTTP not denied`);
      if (!denies.some((s: any) => Number(s.Condition?.NumericLessThan?.['s3:TlsVersion']) === 1.2)) problems.push(`${bucketId}: TLS below 1.2 not denied`);
    }
    return problems;
  };

  test.each(['dev', 'prod'] as const)('%s: every bucket policy denies HTTP and TLS below 1.2', (preset) => {
    const template = platformFor(preset).template.toJSON();
    expect(resourcesOfType(platformFor(preset).template, 'AWS::S3::Bucket').length).toBeGreaterThan(0);
    const weaker = JSON.parse(JSON.stringify(template));
    for (const r of Object.values<any>(weaker.Resources)) {
      if (r.Type !== 'AWS::S3::BucketPolicy') continue;
      r.Properties.PolicyDocument.Statement = r.Properties.PolicyDocument.Statement.filter((s: any) => !s.Condition?.NumericLessThan);
    }
    expectClaim(tlsProblems, template, { 'TLS version deny removed': weaker });
  });
});
