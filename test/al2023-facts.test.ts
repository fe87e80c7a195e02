import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  AL2023_CA_BUNDLE, AL2023_CFN_SIGNAL, AL2023_CLOUDWATCH_AGENT, AL2023_NGINX, AL2023_NGINX_UNIT, AL2023_NODE_MAJORS, AL2023_PACKAGES,
  AL2023_PYTHON_VERSIONS, AL2023_RSYSLOG, AL2023_RSYSLOG_CONFIG, AL2023_RSYSLOG_UNIT, AL2023_SYSTEM_PYTHON, al2023NodePackage, al2023PythonPackages,
} from '../scripts/lib/rehearsal/al2023';
import { AppRuntime, AppTier } from '../src';
import { API_SOURCE, newStack, PRESETS } from './support/stacks';
import { launchTemplateUserData, onlyResource } from './support/template';
import { APP_PATHS } from '../src/app/boot';
import { AGENT_PACKAGES, AGENT_PATHS, SYSTEM_LOG_PATH } from '../src/private/cloudwatch-agent';
import { WEB_PATHS } from '../src/web/boot';
import { renderNginxConfig } from '../src/web/nginx-config';

/*
 * The Amazon Linux 2023 specifics the boot scripts rely on (scripts/lib/rehearsal/al2023.ts, the
 * one place in code that lists them) against a committed fixture that names the source of each
 * fact and the date it was looked up. The rehearsal cannot observe these on Debian.
 */

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'al2023-facts.json'), 'utf8'));
const facts: any[] = fixture.facts;
const fixturePackages: string[] = facts.flatMap((f) => f.packages ?? []);
const paths: Record<string, string> = Object.assign({}, ...facts.map((f) => f.paths ?? {}));

function appUserData(nodeVersion: number, runtime?: AppRuntime): string {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  new AppTier(stack, 'App', { vpc, source: API_SOURCE, preset: PRESETS.dev(), ...(runtime ? { runtime } : { nodeVersion }) });
  const template = Template.fromStack(stack);
  return launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id);
}

test('the fixture says where each fact comes from, and when it was looked up', () => {
  expect(fixture.lookedUp).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  for (const f of facts) {
    expect(typeof f.source).toBe('string');
    expect(f.source.length).toBeGreaterThan(10);
    expect(typeof f.confidence).toBe('string');
  }
});

test('every package the boot scripts may install is an AL2023 package of the fixture, and the fixture lists no other', () => {
  expect(AL2023_PACKAGES.map((p) => p.name).sort()).toEqual([...fixturePackages].sort());
});

test('Node.js: the app tier installs nodejs<major> for exactly the fixture\'s majors and links the versioned binary', () => {
  const fixtureMajors = fixturePackages.filter((p) => /^nodejs\d+$/.test(p)).map((p) => Number(p.slice('nodejs'.length)));
  expect(AL2023_NODE_MAJORS).toEqual(fixtureMajors);
  for (const major of fixtureMajors) {
    const script = appUserData(major);
    expect(al2023NodePackage(major).binary).toBe(paths.nodeBinary.replace('{MAJOR}', String(major)));
    expect(script).toContain(`dnf install -y ${al2023NodePackage(major).name} unzip\n`);
    expect(script).toContain(`command -v ${path.basename(al2023NodePackage(major).binary)} || command -v node`);
  }
  const notPackaged = Math.max(...fixtureMajors) + 2;
  expect(() => appUserData(notPackaged)).toThrow(/nodeVersion/);
});

test('Python: the app tier installs the fixture\'s packages for exactly the fixture\'s versions and runs the versioned interpreter', () => {
  const fixtureVersions = fixturePackages.filter((p) => /^python3(\.\d+)?$/.test(p))
    .map((p) => (p === 'python3' ? AL2023_SYSTEM_PYTHON : p.slice('python'.length)));
  expect(AL2023_PYTHON_VERSIONS).toEqual(fixtureVersions);
  expect(paths.systemPython).toBe('/usr/bin/python3');
  for (const version of fixtureVersions) {
    const python = al2023PythonPackages(version);
    expect(fixturePackages).toEqual(expect.arrayContaining([python.name, python.pip]));
    expect(python.binary).toBe(paths.pythonBinary.replace('{VERSION}', version));
    expect(AL2023_PACKAGES.find((p) => p.name === python.name)?.binary).toBe(python.binary);
    const script = appUserData(22, AppRuntime.python({ version }));
    expect(script).toContain(`dnf install -y ${python.name} ${python.pip} unzip\n`);
    expect(script).toContain(`${path.basename(python.binary)} -m venv /opt/app/.venv\n`);
  }
  expect(() => appUserData(22, AppRuntime.python({ version: '3.10' }))).toThrow(/version/);
});

test('the CloudFormation helper scripts: the fleets install aws-cfn-bootstrap and signal with the fixture\'s cfn-signal', () => {
  expect(AL2023_CFN_SIGNAL).toBe(paths.cfnSignal);
  const script = appUserData(AL2023_NODE_MAJORS[0]);
  expect(script).toContain('dnf install -y aws-cfn-bootstrap\n');
  expect(script).toContain(`${paths.cfnSignal} --stack `);
});

test('NGINX: the package\'s user, paths and unit are the fixture\'s, and the rendered configuration uses them', () => {
  for (const key of ['user', 'home', 'shell', 'config', 'mimeTypes', 'webRoot', 'logDirectory', 'pidFile', 'unit'] as const) {
    expect([key, AL2023_NGINX[key]]).toEqual([key, paths[key]]);
  }
  expect(WEB_PATHS.nginxConfig).toBe(paths.config);
  expect(WEB_PATHS.siteRoot).toBe(paths.webRoot);
  const config = renderNginxConfig({ apiUpstreams: ['api.internal:80'] });
  expect(config).toContain(`user ${paths.user};`);
  expect(config).toContain(`pid ${paths.pidFile};`);
  expect(config).toContain(`include ${paths.mimeTypes};`);
  expect(config).toContain(`root ${paths.webRoot};`);
  expect(config).toContain(`error_log ${paths.logDirectory}/error.log`);
  expect(AL2023_NGINX_UNIT).toContain(`PIDFile=${paths.pidFile}\n`);
  expect(AL2023_NGINX_UNIT).toContain('Type=forking\n');
  expect(AL2023_NGINX_UNIT).toContain(`ExecStart=${AL2023_NGINX.binary}\n`);
});

test('the CA bundle NGINX verifies the internal load balancer with is the fixture\'s', () => {
  expect(AL2023_CA_BUNDLE).toBe(paths.caBundle);
  const config = renderNginxConfig({ apiUpstreams: ['api.internal:443'], apiTlsServerName: 'api.internal' });
  expect(config).toContain(`proxy_ssl_trusted_certificate ${paths.caBundle};`);
});

test('the CloudWatch agent: the fleets install the fixture\'s package and load the configuration with its control script', () => {
  expect(AGENT_PACKAGES).toEqual(['amazon-cloudwatch-agent', 'rsyslog']);
  expect(fixturePackages).toEqual(expect.arrayContaining(AGENT_PACKAGES));
  expect(AGENT_PATHS.ctl).toBe(paths.cloudwatchAgentCtl);
  expect(AGENT_PATHS.config).toBe(paths.cloudwatchAgentConfig);
  expect(AL2023_CLOUDWATCH_AGENT.ctl).toBe(paths.cloudwatchAgentCtl);
  expect(AL2023_CLOUDWATCH_AGENT.config).toBe(paths.cloudwatchAgentConfig);
  const script = appUserData(AL2023_NODE_MAJORS[0]);
  expect(script).toContain(`dnf install -y ${AGENT_PACKAGES.join(' ')}\n`);
  expect(script).toMatch(new RegExp(`^${paths.cloudwatchAgentCtl} -a fetch-config -m ec2 -s -c '?file:${paths.cloudwatchAgentConfig}'?$`, 'm'));
});

test('rsyslog: the package\'s paths are the fixture\'s; its configuration includes the app\'s rule and writes the system log the agent ships', () => {
  for (const [key, fixtureKey] of [['binary', 'rsyslogBinary'], ['config', 'rsyslogConfig'], ['configDirectory', 'rsyslogConfigDirectory'],
    ['unit', 'rsyslogUnit'], ['systemLog', 'systemLog']] as const) {
    expect([key, AL2023_RSYSLOG[key]]).toEqual([key, paths[fixtureKey]]);
  }
  expect(SYSTEM_LOG_PATH).toBe(paths.systemLog);
  expect(path.dirname(APP_PATHS.rsyslogRule)).toBe(paths.rsyslogConfigDirectory);
  expect(APP_PATHS.rsyslogRule).toMatch(/\.conf$/);
  expect(AL2023_RSYSLOG_UNIT).toContain(`ExecStart=${paths.rsyslogBinary} -n $SYSLOGD_OPTIONS\n`);
  expect(AL2023_RSYSLOG_UNIT).toContain('Type=notify\n');
  expect(AL2023_RSYSLOG_CONFIG).toContain(`include(file="${paths.rsyslogConfigDirectory}/*.conf" mode="optional")\n`);
  expect(AL2023_RSYSLOG_CONFIG).toContain('module(load="imjournal"');
  expect(AL2023_RSYSLOG_CONFIG).toMatch(new RegExp(`^\\*\\.info;\\S+ ${paths.systemLog}$`, 'm'));
  const script = appUserData(AL2023_NODE_MAJORS[0]);
  expect(script).toContain('systemctl enable rsyslog\nsystemctl restart rsyslog\n');
});
