import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BootHooks, WebTier, WebTierProps } from '../src';
import { newStack, synthPlatform } from './support/stacks';
import { launchTemplateUserData, onlyResource, refId, roleStatements } from './support/template';
import { renderBootHooks } from '../src/private/boot-hooks';

/*
 * What the load-balanced fleet builder adds to both fleet tiers, seen through the web tier: the
 * machine image, boot hooks (rendered, validated, ordered in the user data, run by bash) and the
 * bucket grants.
 */

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-test-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface SynthesizedWeb {
  readonly stack: Stack;
  readonly web: WebTier;
}

function web(props: Partial<WebTierProps> = {}, stack = newStack()): SynthesizedWeb {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return { stack, web: new WebTier(stack, 'Web', { vpc, apiEndpoint: 'api.internal.example:80', ...props }) };
}

function userData(props: Partial<WebTierProps>): string {
  const template = Template.fromStack(web(props).stack);
  return launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate', 'WebLaunchTemplate').id);
}

/** Runs a bash script; returns its exit status and output. */
function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['-s'], { input: script, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('renderBootHooks', () => {
  test('no hooks: nothing before, nothing after', () => {
    expect(renderBootHooks(undefined)).toEqual({ before: [], after: [] });
    expect(renderBootHooks({})).toEqual({ before: [], after: [] });
  });

  test('files first (base64, no heredoc), then beforeCommands; afterCommands after', () => {
    const rendered = renderBootHooks({
      files: [{ path: '/etc/app/a.conf', content: 'x=1\n' }],
      beforeCommands: ['echo before'],
      afterCommands: ['echo after'],
    });
    expect(rendered.before).toEqual([
      "mkdir -p '/etc/app'",
      `printf '%s' ${Buffer.from('x=1\n').toString('base64')} | base64 -d > '/etc/app/a.conf'`,
      "chown 'root:root' '/etc/app/a.conf'",
      "chmod 0644 '/etc/app/a.conf'",
      'echo before',
    ]);
    expect(rendered.after).toEqual(['echo after']);
    expect(rendered.before.join('\n')).not.toMatch(/<</);
  });

  test('a 3-digit mode is written as 4 digits; the set-user-ID, set-group-ID and sticky bits are applied last', () => {
    expect(renderBootHooks({ files: [{ path: '/a', content: '', mode: '600', owner: 'app' }] }).before.slice(2))
      .toEqual(["chown 'app' '/a'", "chmod 0600 '/a'"]);
    expect(renderBootHooks({ files: [{ path: '/b', content: '', mode: '2755' }] }).before.slice(3))
      .toEqual(["chmod 0755 '/b'", "chmod 2755 '/b'"]);
  });

  test('bash writes each file with exactly its content, mode and owner', () => {
    const content = "line 1\n$HOME `id` 'quoted' \\ \u00e9\n\nEOF\n";
    const file = path.join(scratch, 'sub', 'hook.conf');
    const special = path.join(scratch, 'setgid');
    const { before } = renderBootHooks({ files: [{ path: file, content, mode: '640', owner: os.userInfo().username }, { path: special, content: 'x', mode: '2750' }] });
    expect(bash(['set -euo pipefail', ...before].join('\n')).status).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect((fs.statSync(file).mode % 0o10000).toString(8)).toBe('640');
    expect((fs.statSync(special).mode % 0o10000).toString(8)).toBe('2750');
  });

  test('under set -e, a failing beforeCommand stops the script before the library steps and the afterCommands', () => {
    const { before, after } = renderBootHooks({ beforeCommands: ['echo hook', 'false'], afterCommands: ['echo after'] });
    const result = bash(['set -euo pipefail', ...before, 'echo library', ...after].join('\n'));
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe('hook\n');
  });

  test('a failing afterCommand fails the script (the exit code the success signal reports)', () => {
    const { before, after } = renderBootHooks({ afterCommands: ['exit 7'] });
    const result = bash(['set -euo pipefail', ...before, 'echo library', ...after].join('\n'));
    expect(result).toMatchObject({ status: 7, stdout: 'library\n' });
  });
});

describe('boot hooks in the user data', () => {
  const hooks: BootHooks = {
    files: [{ path: '/etc/myagent/agent.json', content: '{"a":1}' }],
    beforeCommands: ['echo hook-before'],
    afterCommands: ['echo hook-after'],
  };
  const script = userData({ bootHooks: hooks });
  const at = (text: string) => {
    const index = script.indexOf(text);
    expect(index).toBeGreaterThanOrEqual(0);
    return index;
  };

  test('set -euo pipefail comes before cfn-bootstrap is installed', () => {
    expect(at('set -euo pipefail')).toBeLessThan(at('dnf install -y aws-cfn-bootstrap'));
  });
  test('cfn-bootstrap is installed before the hook files are written', () => {
    expect(at('dnf install -y aws-cfn-bootstrap')).toBeLessThan(at("> '/etc/myagent/agent.json'"));
  });
  test('the hook files are written before beforeCommands run', () => {
    expect(at("> '/etc/myagent/agent.json'")).toBeLessThan(at('echo hook-before'));
  });
  test("beforeCommands run before the library's own steps", () => {
    expect(at('echo hook-before')).toBeLessThan(at('dnf install -y nginx unzip'));
  });
  test("afterCommands run after the library's health check passed", () => {
    expect(at('curl -fsS --retry 10')).toBeLessThan(at('echo hook-after'));
    expect(script.trimEnd().endsWith('echo hook-after')).toBe(true);
  });
  test('the signal is sent on exit with the exit code, so a failing hook signals failure', () => {
    expect(at('trap exitTrap EXIT')).toBeLessThan(at('set -euo pipefail'));
    expect(script).toMatch(/exitCode=\$\?[\s\S]*cfn-signal [^\n]*-e \$exitCode/);
  });
  test('without hooks the user data is what it was', () => {
    const plain = userData({});
    expect(plain).not.toMatch(/hook-/);
    expect(script.replace(/\n(mkdir -p '\/etc\/myagent'|printf [^\n]*'\/etc\/myagent\/agent\.json'|chown [^\n]*'\/etc\/myagent\/agent\.json'|chmod [^\n]*'\/etc\/myagent\/agent\.json'|echo hook-[a-z]+)/g, '')).toBe(plain);
  });
  test('hooks count toward the 16 KB user data limit', () => {
    const big = { afterCommands: [`echo ${'x'.repeat(17000)}`] };
    expect(() => Template.fromStack(web({ bootHooks: big }).stack)).toThrow(/user data \(\d+ bytes[^)]*\) must be at most 16384 bytes[\s\S]*bootHooks/);
  });
});

describe('boot hooks are validated', () => {
  const file = (f: object) => ({ files: [{ path: '/etc/app/x', content: 'x', ...f }] });
  test.each<[string, BootHooks, RegExp]>([
    ['a relative path', file({ path: 'etc/x' }), /bootHooks\.files\[0\]\.path \('etc\/x'\) must be a literal absolute file path/],
    ['a .. segment', file({ path: '/etc/../root/x' }), /bootHooks\.files\[0\]\.path \('\/etc\/\.\.\/root\/x'\) must be/],
    ['a . segment', file({ path: '/etc/./x' }), /bootHooks\.files\[0\]\.path/],
    ['a newline in the path', file({ path: '/etc/x\n/y' }), /bootHooks\.files\[0\]\.path/],
    ['a NUL in the path', file({ path: '/etc/x\0' }), /bootHooks\.files\[0\]\.path/],
    ['a trailing slash', file({ path: '/etc/x/' }), /bootHooks\.files\[0\]\.path/],
    ['the NGINX configuration', file({ path: '/etc/nginx/nginx.conf' }), /bootHooks\.files\[0\]\.path \('\/etc\/nginx\/nginx\.conf'\) must not be a path the library writes itself/],
    ['the re-resolve timer unit', file({ path: '/etc/systemd/system/nginx-reresolve.timer' }), /bootHooks\.files\[0\]\.path \('\/etc\/systemd\/system\/nginx-reresolve\.timer'\) must not be a path the library writes/],
    ['a mode of 9s', file({ mode: '999' }), /bootHooks\.files\[0\]\.mode \('999'\) must be a literal octal mode of 3 or 4 digits/],
    ['a mode with 0o', file({ mode: '0o644' }), /bootHooks\.files\[0\]\.mode/],
    ['a 5-digit mode', file({ mode: '10644' }), /bootHooks\.files\[0\]\.mode/],
    ['a 2-digit mode', file({ mode: '64' }), /bootHooks\.files\[0\]\.mode/],
    ['an upper-case owner', file({ owner: 'Root' }), /bootHooks\.files\[0\]\.owner \('Root'\) must be user or user:group/],
    ['an owner with two colons', file({ owner: 'a:b:c' }), /bootHooks\.files\[0\]\.owner/],
    ['an owner with a space', file({ owner: 'root; rm' }), /bootHooks\.files\[0\]\.owner/],
    ['content that is not a string', file({ content: 1 }), /bootHooks\.files\[0\]\.content \(1\) must be a string/],
    ['the same path twice', { files: [{ path: '/a', content: '' }, { path: '/a', content: '' }] }, /bootHooks\.files\[1\]\.path \('\/a'\) must not repeat/],
    ['a command with a NUL byte', { beforeCommands: ['echo a\0b'] }, /bootHooks\.beforeCommands\[0\] \('echo a\0b'\) must not hold a NUL byte/],
    ['a command that is not a string', { afterCommands: [1 as any] }, /bootHooks\.afterCommands\[0\] \(1\) must be a string/],
    ['files that is not a list', { files: 'x' as any }, /bootHooks\.files \('x'\) must be a list/],
  ])('refused: %s', (_name, bootHooks, message) => {
    expect(() => web({ bootHooks })).toThrow(message);
  });

  test('a command with a deploy-time parameter is refused; one with a resource attribute is accepted', () => {
    const stack = newStack();
    const parameter = new CfnParameter(stack, 'Cmd');
    expect(() => web({ bootHooks: { beforeCommands: [`echo ${parameter.valueAsString}`] } }, stack))
      .toThrow(/bootHooks\.beforeCommands\[0\] .* must be a literal or an attribute of an AWS resource, not the CloudFormation parameter Cmd/);
    const other = newStack();
    const bucket = new s3.Bucket(other, 'Data');
    expect(() => web({ bootHooks: { afterCommands: [`aws s3 ls s3://${bucket.bucketName}`] } }, other)).not.toThrow();
  });

  test('valid hooks pass: 3- and 4-digit modes, user and user:group owners, tokens in content', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Data');
    expect(() => web({
      bootHooks: {
        files: [
          { path: '/etc/a', content: bucket.bucketName, mode: '600', owner: 'nginx' },
          { path: '/opt/b/run.sh', content: '#!/bin/sh\n', mode: '0755', owner: 'root:root' },
        ],
      },
    }, stack)).not.toThrow();
  });
});

describe('machine image', () => {
  test('default: the latest Amazon Linux 2023 for the CPU architecture of the instance type', () => {
    const arm = Template.fromStack(web({ instanceType: new ec2.InstanceType('m7g.large') }).stack).toJSON();
    const x86 = Template.fromStack(web({}).stack).toJSON();
    const amiParameter = (t: any) => Object.values(t.Parameters as Record<string, any>).map((p) => p.Default).find((d) => /al2023/.test(String(d)));
    expect(amiParameter(arm)).toMatch(/al2023-ami-kernel-[^/]*-arm64$/);
    expect(amiParameter(x86)).toMatch(/al2023-ami-kernel-[^/]*-x86_64$/);
  });

  test('a given Linux image is the one the launch template uses; the user data stays the library boot script', () => {
    const image = ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }, { userData: ec2.UserData.custom('echo image user data') });
    const template = Template.fromStack(web({ machineImage: image }).stack);
    const lt = onlyResource(template, 'AWS::EC2::LaunchTemplate', 'WebLaunchTemplate');
    expect(lt.properties.LaunchTemplateData.ImageId).toBe('ami-0123456789abcdef0');
    const script = launchTemplateUserData(template, lt.id);
    expect(script.startsWith('#!/bin/bash\n')).toBe(true);
    expect(script).toContain('set -euo pipefail');
    expect(script).not.toContain('echo image user data');
  });

  test.each([
    ['a generic Windows image', () => ec2.MachineImage.genericWindows({ 'us-east-1': 'ami-0123456789abcdef0' })],
    ['the latest Windows Server', () => ec2.MachineImage.latestWindows(ec2.WindowsVersion.WINDOWS_SERVER_2022_ENGLISH_FULL_BASE)],
  ])('%s is refused, naming machineImage', (_name, image) => {
    expect(() => web({ machineImage: image() })).toThrow(/machineImage \('WINDOWS image'\) must be a Linux image .* in Stack\/Web/);
  });
});

describe('bucket grants', () => {
  /** The instances' own statement (the success signal); the grants come after it. */
  const SIGNAL = { actions: ['cloudformation:SignalResource'], resources: [{ Ref: 'AWS::StackId' }] };
  const statementsOf = (stack: Stack, w: WebTier) => {
    const template = Template.fromStack(stack);
    const roleId = onlyResource(template, 'AWS::IAM::Role', 'WebInstanceRole').id;
    expect(refId(stack.resolve(w.role.roleArn)) ?? stack.resolve(w.role.roleArn)['Fn::GetAtt'][0]).toBe(roleId);
    return roleStatements(template, roleId).filter((s) => !s.raw.Sid).map((s) => ({ actions: s.actions, resources: s.resources }));
  };

  test('grantBucketRead: read and list, and decrypt with the bucket key', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Data', { encryptionKey: new kms.Key(stack, 'Key'), encryption: s3.BucketEncryption.KMS });
    const { web: w } = web({}, stack);
    w.grantBucketRead(bucket);
    const bucketArn = { 'Fn::GetAtt': [stack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId), 'Arn'] };
    const keyArn = { 'Fn::GetAtt': [stack.resolve((bucket.encryptionKey!.node.defaultChild as kms.CfnKey).logicalId), 'Arn'] };
    expect(statementsOf(stack, w)).toEqual([
      SIGNAL,
      { actions: ['s3:GetObject'], resources: [{ 'Fn::Join': ['', [bucketArn, '/*']] }] },
      { actions: ['s3:ListBucket'], resources: [bucketArn] },
      { actions: ['kms:Decrypt'], resources: [keyArn] },
    ]);
  });

  test('grantBucketReadWrite: get, put and delete objects and list; no KMS statement for an SSE-S3 bucket', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Data');
    const { web: w } = web({}, stack);
    const grant = w.grantBucketReadWrite(bucket);
    expect(grant.success).toBe(true);
    const bucketArn = { 'Fn::GetAtt': [stack.resolve((bucket.node.defaultChild as s3.CfnBucket).logicalId), 'Arn'] };
    expect(statementsOf(stack, w)).toEqual([
      SIGNAL,
      { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [{ 'Fn::Join': ['', [bucketArn, '/*']] }] },
      { actions: ['s3:ListBucket'], resources: [bucketArn] },
    ]);
  });
});

describe('through the platform', () => {
  test("the platform's web options carry machineImage and bootHooks to the web tier", () => {
    const machineImage = ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0fedcba9876543210' });
    const { template, platform } = synthPlatform('dev', { web: { machineImage, bootHooks: { afterCommands: ['echo platform-hook'] } } });
    const lt = onlyResource(template, 'AWS::EC2::LaunchTemplate', 'PlatformWebLaunchTemplate');
    expect(lt.properties.LaunchTemplateData.ImageId).toBe('ami-0fedcba9876543210');
    expect(launchTemplateUserData(template, lt.id).trimEnd().endsWith('echo platform-hook')).toBe(true);
    expect(platform.web.instanceConnections.securityGroups).toEqual([platform.web.instanceSecurityGroup]);
  });
});
