import * as logs from 'aws-cdk-lib/aws-logs';
import { renderNginxConfig } from '../src';
import { PRESET_NAMES, PRESETS, synthPlatform, SynthesizedPlatform } from './support/stacks';
import { bootFile, flatten, launchTemplateUserData, onlyResource, refId, resourcesOfType, roleStatements } from './support/template';
import { APP_PATHS, APP_SYSLOG_IDENTIFIER, renderAppLogRule, renderAppUnit } from '../src/app/boot';
import { AGENT_METRICS, AGENT_PATHS, agentLogFilePaths, nginxLogPaths, renderAgentConfig, SYSTEM_LOG_PATH } from '../src/private/cloudwatch-agent';

const byPreset = new Map<string, SynthesizedPlatform>();
const synth = (preset: (typeof PRESET_NAMES)[number]) => {
  if (!byPreset.has(preset)) byPreset.set(preset, synthPlatform(preset));
  return byPreset.get(preset)!;
};

/** The user data of a tier with every `Ref` shown as `ref:<logical ID>`, and the agent configuration it writes. */
function agentOf(s: SynthesizedPlatform, tier: 'Web' | 'App') {
  const lt = onlyResource(s.template, 'AWS::EC2::LaunchTemplate', `Platform${tier}LaunchTemplate`);
  const script = launchTemplateUserData(s.template, lt.id, (t) => (refId(t) ? `ref:${refId(t)}` : `<<${JSON.stringify(t).replace(/"/g, "'")}>>`));
  const config = bootFile(script, AGENT_PATHS.config);
  return { script, config, parsed: JSON.parse(config) };
}

/** The log group logical ID a `ref:<id>` name stands for. */
const groupId = (name: string) => /^ref:(\w+)$/.exec(name)?.[1];

describe('the agent configuration renderer', () => {
  const config = JSON.parse(renderAgentConfig({ logFiles: [{ filePath: '/var/log/a.log', logGroupName: 'a' }] }));

  test('memory and root-disk use in CWAgent, aggregated to exactly AutoScalingGroupName', () => {
    expect(config.metrics.namespace).toBe('CWAgent');
    expect(config.metrics.metrics_collected.mem.measurement).toEqual(['mem_used_percent']);
    // The agent prefixes disk measurements with "disk_": used_percent is published as disk_used_percent.
    expect(`disk_${config.metrics.metrics_collected.disk.measurement[0]}`).toBe(AGENT_METRICS.diskUsedPercent);
    expect(config.metrics.metrics_collected.disk.resources).toEqual(['/']);
    expect(config.metrics.append_dimensions).toEqual({ AutoScalingGroupName: '${aws:AutoScalingGroupName}' });
    expect(config.metrics.aggregation_dimensions).toEqual([['AutoScalingGroupName']]);
  });
  test('one stream per instance in the given group', () => {
    expect(config.logs.logs_collected.files.collect_list).toEqual([{ file_path: '/var/log/a.log', log_group_name: 'a', log_stream_name: '{instance_id}' }]);
  });
  test.each([['repeated', ['/var/log/a', '/var/log/a'], /repeat a path/], ['relative', ['var/log/a'], /not a safe absolute path/], ['with a space', ['/var/log/a b'], /not a safe/]])(
    'rejects a %s path', (_name, paths, error) => {
      expect(() => renderAgentConfig({ logFiles: paths.map((filePath) => ({ filePath, logGroupName: 'g' })) })).toThrow(error);
    });
});

describe('NGINX log paths come from the rendered NGINX configuration', () => {
  test('the default directory', () => {
    expect(nginxLogPaths(renderNginxConfig({ apiUpstreams: ['api:80'] }))).toEqual({ accessLogs: ['/var/log/nginx/access.log'], errorLogs: ['/var/log/nginx/error.log'] });
  });
  test('another directory, and access_log off is not a file', () => {
    const config = renderNginxConfig({ apiUpstreams: ['api:80'], logDirectory: '/srv/logs' });
    expect(config).toMatch(/access_log off;/);
    expect(nginxLogPaths(config)).toEqual({ accessLogs: ['/srv/logs/access.log'], errorLogs: ['/srv/logs/error.log'] });
  });
});

describe('the app unit writes what the agent ships', () => {
  test('the unit names its output, the rsyslog rule selects that name and writes the shipped file', () => {
    expect(renderAppUnit()).toContain(`\nSyslogIdentifier=${APP_SYSLOG_IDENTIFIER}\n`);
    const rule = renderAppLogRule();
    expect(rule).toContain(`if $programname == '${APP_SYSLOG_IDENTIFIER}' then {`);
    expect(rule).toContain(`file="${APP_PATHS.logFile}"`);
    expect(rule).toMatch(/\n {2}stop\n/);
  });
});

describe.each(PRESET_NAMES)('%s platform', (preset) => {
  test('the web agent ships the system log and exactly the NGINX logs of the NGINX configuration', () => {
    const s = synth(preset);
    const nginx = nginxLogPaths(flatten(s.stack.resolve(s.platform.web.nginxConfig)));
    expect(agentLogFilePaths(agentOf(s, 'Web').config)).toEqual([SYSTEM_LOG_PATH, ...nginx.accessLogs, ...nginx.errorLogs]);
  });
  test("the app agent ships the system log and the API's output file", () => {
    const s = synth(preset);
    const { script, config } = agentOf(s, 'App');
    expect(agentLogFilePaths(config)).toEqual([SYSTEM_LOG_PATH, APP_PATHS.logFile]);
    expect(bootFile(script, APP_PATHS.unit)).toContain(`SyslogIdentifier=${APP_SYSLOG_IDENTIFIER}`);
    expect(bootFile(script, APP_PATHS.rsyslogRule)).toBe(renderAppLogRule());
  });
  test.each(['Web', 'App'] as const)('%s: every shipped file goes to a KMS-encrypted log group of the stack with the preset retention', (tier) => {
    const s = synth(preset);
    const groups = agentOf(s, tier).parsed.logs.logs_collected.files.collect_list.map((f: any) => groupId(f.log_group_name));
    expect(new Set(groups).size).toBe(groups.length);
    for (const id of groups) {
      const group = s.template.toJSON().Resources[id];
      expect(group.Type).toBe('AWS::Logs::LogGroup');
      expect(group.Properties.RetentionInDays).toBe(PRESETS[preset]().values.logRetention);
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^Platform${tier}InstanceLogKey`)), 'Arn'] });
    }
  });
  test('every log group of the stack has a retention and a KMS key', () => {
    for (const group of resourcesOfType(synth(preset).template, 'AWS::Logs::LogGroup')) {
      expect([group.id, group.properties.RetentionInDays]).toEqual([group.id, expect.any(Number)]);
      expect([group.id, group.properties.KmsKeyId]).toEqual([group.id, expect.anything()]);
    }
  });
  test.each(['Web', 'App'] as const)('%s: the agent is installed, configured, then started with its file', (tier) => {
    const lines = agentOf(synth(preset), tier).script.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(at('dnf install -y amazon-cloudwatch-agent rsyslog')).toBeGreaterThan(-1);
    expect(at('systemctl restart rsyslog')).toBeGreaterThan(at('dnf install -y amazon-cloudwatch-agent'));
    expect(at(`${AGENT_PATHS.ctl} -a fetch-config -m ec2 -s -c 'file:${AGENT_PATHS.config}'`)).toBeGreaterThan(lines.findIndex((l) => l.endsWith(`> '${AGENT_PATHS.config}'`)));
  });
  test.each(['Web', 'App'] as const)('%s: the role may put CWAgent metrics and write its own log groups, nothing more for the agent', (tier) => {
    const s = synth(preset);
    const role = onlyResource(s.template, 'AWS::IAM::Role', `Platform${tier}InstanceRole`);
    expect(role.properties.ManagedPolicyArns?.filter((a: any) => JSON.stringify(a).includes(':aws:policy/')) ?? []).toEqual([]);
    const statements = roleStatements(s.template, role.id);
    const metrics = statements.filter((st) => st.actions.includes('cloudwatch:PutMetricData'));
    expect(metrics.map((st) => st.raw.Condition)).toEqual([{ StringEquals: { 'cloudwatch:namespace': 'CWAgent' } }]);
    const logStatements = statements.filter((st) => st.actions.some((a) => a.startsWith('logs:')));
    expect(logStatements.map((st) => st.actions)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams']]);
    const shipped = agentOf(s, tier).parsed.logs.logs_collected.files.collect_list.map((f: any) => groupId(f.log_group_name));
    expect(logStatements[0].resources.map((r: any) => r['Fn::GetAtt']?.[0]).sort()).toEqual([...shipped].sort());
  });
});

test('the tier prop logRetention wins over the preset', () => {
  const s = synthPlatform('prod', { web: { logRetention: logs.RetentionDays.TWO_WEEKS } });
  const webGroups = resourcesOfType(s.template, 'AWS::Logs::LogGroup').filter((g) => g.id.startsWith('PlatformWeb') && g.id.includes('Nginx'));
  expect(webGroups.map((g) => g.properties.RetentionInDays)).toEqual([14, 14]);
});
