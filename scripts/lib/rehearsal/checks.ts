/* eslint-disable no-bitwise */ // file modes are bit fields
import * as fs from 'fs';
import { dirname } from 'path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AL2023_CFN_SIGNAL, AL2023_CLOUDWATCH_AGENT, AL2023_NGINX, AL2023_RSYSLOG } from './al2023';
import { libsystemdShared, ListedFile, RehearsedInstance } from './instance';
import { APP_PATHS } from '../../../src/app/boot';
import { AGENT_PATHS, renderAgentConfig } from '../../../src/private/cloudwatch-agent';
import { WEB_PATHS } from '../../../src/web/boot';

/**
 * The checks run on a rehearsed instance after its user data ended: what an instance on AWS would
 * have. Each returns the problems it found (empty: passed).
 */

/** A file the user data writes (`printf '%s' B64 | base64 -d > 'PATH'`, then chown and chmod). */
export interface IntendedFile {
  readonly path: string;
  readonly content: Buffer;
  readonly owner?: string;
  readonly mode?: string;
}

/** A symbolic mode (`u=rwX,g=rX,o=`, the forms the boot scripts use) applied to a file's octal mode. */
function symbolicMode(mode: string, current: number, isDirectory: boolean): number {
  let result = current;
  for (const clause of mode.split(',')) {
    const m = /^([ugo]+)=([rwX]*)$/.exec(clause);
    if (!m) throw new Error(`chmod mode ${mode} is not one the rehearsal evaluates`);
    const executable = isDirectory || (current & 0o111) !== 0;
    const bits = (m[2].includes('r') ? 4 : 0) | (m[2].includes('w') ? 2 : 0) | (m[2].includes('X') && executable ? 1 : 0);
    for (const who of m[1]) {
      const shift = who === 'u' ? 6 : who === 'g' ? 3 : 0;
      result = (result & ~(7 << shift)) | (bits << shift);
    }
  }
  return result;
}

/**
 * Every file a boot script writes, with the owner and mode its chown and chmod lines give it,
 * including a later `chown -R` or `chmod -R` of a directory that holds it.
 */
export function intendedFiles(script: string): IntendedFile[] {
  const files = new Map<string, { content: Buffer; owner?: string; mode?: string }>();
  const unquote = (w: string) => w.replace(/^'(.*)'$/, '$1');
  for (const line of script.split('\n')) {
    let m = /^printf '%s' ([A-Za-z0-9+/=]*) \| base64 -d > '([^']+)'$/.exec(line);
    if (m) {
      files.set(m[2], { content: Buffer.from(m[1], 'base64') });
      continue;
    }
    m = /^chown (-R )?('[^']+'|[^ ']+) ('[^']+'|[^ ']+)$/.exec(line);
    if (m) {
      const [target, owner] = [unquote(m[3]), unquote(m[2])];
      for (const [p, f] of files) if (p === target || (m[1] && p.startsWith(`${target}/`))) f.owner = owner;
      continue;
    }
    m = /^chmod (-R )?('[^']+'|[^ ']+) ('[^']+'|[^ ']+)$/.exec(line);
    if (m) {
      const [target, mode] = [unquote(m[3]), unquote(m[2])];
      for (const [p, f] of files) {
        if (p !== target && !(m[1] && p.startsWith(`${target}/`))) continue;
        f.mode = /^[0-7]{3,4}$/.test(mode) ? mode.padStart(4, '0')
          : `0${symbolicMode(mode, parseInt(f.mode ?? '0644', 8), false).toString(8).padStart(3, '0')}`;
      }
    }
  }
  return [...files].map(([path, f]) => ({ path, ...f }));
}

/** user and group names by ID, as the instance's /etc/passwd and /etc/group say. */
function accounts(instance: RehearsedInstance): { users: Map<number, string>; groups: Map<number, string>; uidOf: Map<string, number> } {
  const users = new Map<number, string>();
  const uidOf = new Map<string, number>();
  const groups = new Map<number, string>();
  for (const line of (instance.readFile('/etc/passwd') ?? '').toString().split('\n')) {
    const f = line.split(':');
    if (f.length > 3) {
      users.set(Number(f[2]), f[0]);
      uidOf.set(f[0], Number(f[2]));
    }
  }
  for (const line of (instance.readFile('/etc/group') ?? '').toString().split('\n')) {
    const f = line.split(':');
    if (f.length > 2) groups.set(Number(f[2]), f[0]);
  }
  return { users, groups, uidOf };
}

/** Every intended file is on the instance byte for byte, with its owner and mode. */
export function checkFiles(instance: RehearsedInstance, files: IntendedFile[]): string[] {
  const problems: string[] = [];
  const { users, groups } = accounts(instance);
  for (const f of files) {
    const actual = instance.readFile(f.path);
    const st = instance.stat(f.path);
    if (actual === undefined || !st) {
      problems.push(`${f.path}: not on the instance`);
      continue;
    }
    if (!actual.equals(f.content)) problems.push(`${f.path}: differs from what the user data writes (${actual.length} bytes, intended ${f.content.length})`);
    if (f.mode && (st.mode & 0o7777) !== parseInt(f.mode, 8)) problems.push(`${f.path}: mode ${(st.mode & 0o7777).toString(8)}, intended ${f.mode}`);
    const owner = `${users.get(st.uid) ?? st.uid}:${groups.get(st.gid) ?? st.gid}`;
    if (f.owner && owner !== f.owner) problems.push(`${f.path}: owner ${owner}, intended ${f.owner}`);
  }
  return problems;
}

/** Files whose intended content must equal what a renderer of the library produces. */
export function checkRenderers(files: IntendedFile[], rendered: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [p, content] of Object.entries(rendered)) {
    const f = files.find((x) => x.path === p);
    if (!f) problems.push(`${p}: the user data writes no such file`);
    else if (!f.content.equals(Buffer.from(content, 'utf8'))) problems.push(`${p}: the user data writes other bytes than the renderer produces`);
  }
  return problems;
}

/** Every unit file passes `systemd-analyze verify` in the instance, without a warning. */
export function checkUnits(instance: RehearsedInstance, paths: string[]): string[] {
  const problems: string[] = [];
  for (const p of paths) {
    const r = instance.exec(['systemd-analyze', 'verify', p]);
    const output = `${r.stdout}${r.stderr}`.trim();
    if (r.status !== 0 || output) problems.push(`systemd-analyze verify ${p}: exit ${r.status}${output ? `: ${output}` : ''}`);
  }
  return problems;
}

/** An environment file as systemd reads it (load_env_file through the libsystemd-shared helper). */
export function parseEnvironmentFile(instance: RehearsedInstance, p: string): { status: number; entries: Array<[string, string]>; dropped: string } {
  const r = instance.exec(['/run/rehearsal/bin/systemd-env-parse', libsystemdShared(), p]);
  if (r.status !== 0) throw new Error(`the systemd environment parser failed on ${p}: ${r.stderr}`);
  const parts = r.stdout.split('\0');
  const entries: Array<[string, string]> = [];
  for (let i = 1; i < parts.length && parts[i] !== ''; i++) {
    const eq = parts[i].indexOf('=');
    entries.push([parts[i].slice(0, eq), parts[i].slice(eq + 1)]);
  }
  return { status: Number(parts[0]), entries, dropped: r.stderr.trim() };
}

/** The environment file parses with systemd's parser to exactly the intended values. */
export function checkEnvironmentFile(instance: RehearsedInstance, p: string, intended: Record<string, string>): string[] {
  const parsed = parseEnvironmentFile(instance, p);
  const problems: string[] = [];
  if (parsed.status !== 0) problems.push(`load_env_file returned ${parsed.status}`);
  if (parsed.dropped) problems.push(`systemd dropped assignments: ${parsed.dropped}`);
  const seen = new Map<string, string>();
  for (const [k, v] of parsed.entries) {
    if (seen.has(k)) problems.push(`${k} is assigned twice`);
    seen.set(k, v);
  }
  for (const [k, v] of Object.entries(intended)) {
    if (!seen.has(k)) problems.push(`${k} is missing`);
    else if (seen.get(k) !== v) problems.push(`${k} is ${JSON.stringify(seen.get(k))}, intended ${JSON.stringify(v)}`);
  }
  for (const k of seen.keys()) if (!(k in intended)) problems.push(`${k} is not intended`);
  return problems;
}

/** The systemctl stand-in's record of a unit. */
export function unitRecord(instance: RehearsedInstance, unit: string): any {
  const state = JSON.parse(instance.shareFile('systemctl/state.json') ?? '{"units":{}}');
  return state.units[unit];
}

/** The PID in this machine's PID namespace of a PID inside the instance's. */
function hostPid(instance: RehearsedInstance, nsPid: number): number | undefined {
  const ns = fs.readlinkSync(`/proc/${instance.nsPid}/ns/pid`);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
      const m = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'));
      const ids = m ? m[1].trim().split(/\s+/).map(Number) : [];
      if (ids[ids.length - 1] === nsPid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * The process systemd would have started: alive, from ExecStart=, as User=, in WorkingDirectory=,
 * with the unit's environment.
 */
export function checkService(
  instance: RehearsedInstance, unit: string, expect: { user: string; cwd: string; argv: string[]; environment: Record<string, string> },
): string[] {
  const record = unitRecord(instance, unit);
  if (!record) return [`${unit} was never started`];
  const problems: string[] = [];
  if (record.state !== 'active') problems.push(`${unit} is ${record.state}`);
  const pid = record.mainPid ? hostPid(instance, record.mainPid) : undefined;
  if (!pid) return [...problems, `${unit}: its main process (${record.mainPid}) is not running`];
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (JSON.stringify(argv) !== JSON.stringify(expect.argv)) problems.push(`${unit}: main process runs ${JSON.stringify(argv)}, ExecStart= says ${JSON.stringify(expect.argv)}`);
  const uid = fs.statSync(`/proc/${pid}`).uid;
  const uidOf = accounts(instance).uidOf;
  if (uid !== uidOf.get(expect.user)) problems.push(`${unit}: main process runs as uid ${uid}, not ${expect.user} (${uidOf.get(expect.user)})`);
  const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  if (!cwd.endsWith(`/root${expect.cwd}`) && cwd !== expect.cwd) problems.push(`${unit}: main process works in ${cwd}, not ${expect.cwd}`);
  const environ = new Map(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => {
    const eq = e.indexOf('=');
    return [e.slice(0, eq), e.slice(eq + 1)] as [string, string];
  }));
  for (const [k, v] of Object.entries(expect.environment)) {
    if (environ.get(k) !== v) problems.push(`${unit}: main process has ${k}=${JSON.stringify(environ.get(k))}, intended ${JSON.stringify(v)}`);
  }
  // Besides the unit's own variables, only what systemd itself sets for a service with User=.
  const systemdSets = ['INVOCATION_ID', 'USER', 'LOGNAME', 'HOME', 'SHELL'];
  for (const k of environ.keys()) if (!(k in expect.environment) && !systemdSets.includes(k)) problems.push(`${unit}: main process has ${k}, which neither the unit nor systemd sets`);
  return problems;
}

/** NGINX runs (started by its unit, as the AL2023 package's unit starts it) with exactly the written configuration. */
export function checkNginx(instance: RehearsedInstance, intendedConfig: Buffer): string[] {
  const problems: string[] = [];
  const record = unitRecord(instance, 'nginx.service');
  if (!record || record.state !== 'active') problems.push(`nginx.service is ${record?.state ?? 'not started'}`);
  const pidText = instance.readFile(AL2023_NGINX.pidFile)?.toString().trim();
  const pid = pidText ? hostPid(instance, Number(pidText)) : undefined;
  if (!pid) return [...problems, `no NGINX master process (${AL2023_NGINX.pidFile}: ${pidText ?? 'missing'})`];
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
  if (cmdline !== `nginx: master process ${AL2023_NGINX.binary}`) problems.push(`the NGINX master runs as '${cmdline}'`);
  const dump = instance.exec([AL2023_NGINX.binary, '-T']);
  const first = /# configuration file \/etc\/nginx\/nginx\.conf:\n([\s\S]*?)(?=\n# configuration file |$)/.exec(dump.stdout);
  if (dump.status !== 0 || !first) problems.push(`nginx -T failed: ${dump.stderr.trim()}`);
  else if (`${first[1]}\n` !== intendedConfig.toString('utf8') && first[1] !== intendedConfig.toString('utf8')) problems.push('nginx -T shows another /etc/nginx/nginx.conf than the user data writes');
  const startedAfterConfig = fs.statSync(`/proc/${pid}`).mtimeMs >= (instance.stat(AL2023_NGINX.config)?.mtimeMs ?? Infinity) - 1000;
  if (!startedAfterConfig) problems.push('the NGINX master started before the configuration was written');
  return problems;
}

/** The seed's files are in the bucket, under the prefix, with their sizes. */
export async function checkSeed(s3: S3Client, bucket: string, prefix: string, files: Map<string, number>): Promise<string[]> {
  const listed = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) listed.set(o.Key!, o.Size ?? -1);
    token = page.NextContinuationToken;
  } while (token);
  const problems: string[] = [];
  for (const [rel, size] of files) {
    const key = `${prefix}${rel}`;
    if (!listed.has(key)) problems.push(`s3://${bucket}/${key} is missing`);
    else if (listed.get(key) !== size) problems.push(`s3://${bucket}/${key} has ${listed.get(key)} bytes, the seed file ${size}`);
  }
  for (const key of listed.keys()) if (!files.has(key.slice(prefix.length))) problems.push(`s3://${bucket}/${key} is not part of the seed`);
  return problems;
}

/** One SUCCESS signal for the fleet's Auto Scaling Group, delivered or checked against the emulator's stack. */
export function checkSignal(instance: RehearsedInstance, stackName: string, autoScalingGroupId: string, expected: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): string[] {
  const records = (instance.shareFile('signals.jsonl') ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (records.length !== 1) return [`${records.length} signals sent (expected exactly 1)`];
  const s = records[0];
  const problems: string[] = [];
  if (s.status !== expected) problems.push(`signal status ${s.status}, expected ${expected}`);
  if (s.stack !== stackName) problems.push(`signal for stack ${s.stack}, not ${stackName}`);
  if (s.resource !== autoScalingGroupId) problems.push(`signal for resource ${s.resource}, not the Auto Scaling Group ${autoScalingGroupId}`);
  if (s.signalResource.code !== 0) {
    // moto 5.2.1 has no SignalResource: the stand-in checked the resource as CloudFormation would.
    const found = s.listStackResources?.code === 0 ? JSON.parse(s.listStackResources.stdout).StackResourceSummaries ?? [] : [];
    const r = found.find((x: any) => x.LogicalResourceId === autoScalingGroupId);
    if (!r) problems.push(`the emulator has no resource ${autoScalingGroupId} in ${stackName} (${s.listStackResources?.stderr || s.signalResource.stderr})`);
    else if (r.ResourceType !== 'AWS::AutoScaling::AutoScalingGroup') problems.push(`${autoScalingGroupId} is a ${r.ResourceType}`);
  }
  return problems;
}

/**
 * The CloudWatch agent's configuration the boot writes is byte for byte what `renderAgentConfig`
 * renders for the tier's files (in this order), each shipped to its own log group of the stack
 * (`logGroupNames`: their physical names); the agent's control script loaded it, once, and found it
 * valid.
 */
export function checkAgentConfig(instance: RehearsedInstance, files: IntendedFile[], filePaths: string[], logGroupNames: Set<string>): string[] {
  const written = files.find((f) => f.path === AGENT_PATHS.config);
  if (!written) return [`the user data writes no ${AGENT_PATHS.config}`];
  const problems: string[] = [];
  let collected: Array<{ file_path: string; log_group_name: string }> = [];
  try {
    collected = JSON.parse(written.content.toString('utf8')).logs.logs_collected.files.collect_list;
  } catch (e) {
    return [`${AGENT_PATHS.config} is not the agent configuration the library renders: ${(e as Error).message}`];
  }
  const groupOf = new Map(collected.map((c) => [c.file_path, c.log_group_name]));
  if (JSON.stringify(collected.map((c) => c.file_path)) !== JSON.stringify(filePaths)) {
    problems.push(`ships ${JSON.stringify(collected.map((c) => c.file_path))}, intended ${JSON.stringify(filePaths)}`);
  }
  for (const [file, group] of groupOf) if (!logGroupNames.has(group)) problems.push(`${file} goes to ${group}, which is no log group of the stack`);
  if (new Set(groupOf.values()).size !== groupOf.size) problems.push('two files go to the same log group');
  const rendered = renderAgentConfig({ logFiles: filePaths.map((filePath) => ({ filePath, logGroupName: groupOf.get(filePath) ?? '' })) });
  if (!written.content.equals(Buffer.from(rendered, 'utf8'))) problems.push(`${AGENT_PATHS.config}: the user data writes other bytes than renderAgentConfig produces`);
  if (AGENT_PATHS.ctl !== AL2023_CLOUDWATCH_AGENT.ctl) problems.push(`the boot runs ${AGENT_PATHS.ctl}; the package installs ${AL2023_CLOUDWATCH_AGENT.ctl}`);
  const calls = (instance.shareFile('cloudwatch-agent.jsonl') ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (calls.length !== 1) problems.push(`the agent's control script ran ${calls.length} times (expected once)`);
  for (const c of calls) {
    if (c.code !== 0) problems.push(`amazon-cloudwatch-agent-ctl ${c.argv.join(' ')}: exit ${c.code}: ${(c.problems ?? []).join('; ')}`);
    else if (c.configFile !== AGENT_PATHS.config || !c.argv.includes('-s')) problems.push(`amazon-cloudwatch-agent-ctl ${c.argv.join(' ')}: not the written configuration, or the agent is not started (-s)`);
  }
  return problems;
}

/** rsyslog runs, started by its unit, and rsyslogd accepts its configuration (with every rule in /etc/rsyslog.d). */
export function checkRsyslog(instance: RehearsedInstance): string[] {
  const problems: string[] = [];
  const record = unitRecord(instance, 'rsyslog.service');
  if (!record?.enabled) problems.push('rsyslog.service is not enabled');
  if (record?.state !== 'active') problems.push(`rsyslog.service is ${record?.state ?? 'not started'}`);
  const check = instance.exec([AL2023_RSYSLOG.binary, '-N1', '-f', AL2023_RSYSLOG.config]);
  if (check.status !== 0) problems.push(`rsyslogd -N1: exit ${check.status}: ${`${check.stdout}${check.stderr}`.trim().split('\n').slice(-5).join(' | ')}`);
  return problems;
}

/** A path the boot may write, and why. */
export interface AllowedWrite {
  readonly pattern: RegExp;
  readonly why: string;
}

/** What every fleet's boot writes besides its own files. */
const COMMON_WRITES: AllowedWrite[] = [
  { pattern: /^\/etc\/(passwd|group|shadow|gshadow)-?$|^\/etc\/\.pwd\.lock$/, why: 'useradd/groupadd (the app user, or the nginx user of the nginx package)' },
  { pattern: /^\/etc\/systemd\/system\/[a-z.-]+\.target\.wants\/[a-z.-]+\.(service|timer)$/, why: 'systemctl enable: [Install] WantedBy= symlinks' },
  { pattern: /^\/etc\/systemd\/system\/[a-z.-]+\.target\.wants$/, why: 'systemctl enable' },
  { pattern: new RegExp(`^${AL2023_CFN_SIGNAL.replace(/\//g, '\\/')}$|^\\/opt\\/aws(\\/bin)?$`), why: 'dnf install aws-cfn-bootstrap' },
  { pattern: /^\/run\/systemd(\/systemd-units-load)?$/, why: 'systemd-analyze verify (run by the systemctl stand-in)' },
  { pattern: /^\/opt\/aws\/amazon-cloudwatch-agent(\/(bin|etc)(\/[a-z.-]+)?)?$/, why: 'dnf install amazon-cloudwatch-agent (the control script) and the agent\'s configuration' },
  {
    pattern: new RegExp(`^(${[AL2023_RSYSLOG.unit, AL2023_RSYSLOG.config, AL2023_RSYSLOG.sysconfig, AL2023_RSYSLOG.configDirectory, '/etc/sysconfig']
      .map((p) => p.replace(/[./]/g, (c) => `\\${c}`)).join('|')})$`),
    why: 'dnf install rsyslog: the package\'s unit, configuration and options',
  },
  { pattern: /^\/var\/lib\/rsyslog(\/.*)?$/, why: 'dnf install rsyslog (its work directory), rsyslog\'s journal position' },
  { pattern: /^\/var\/log\/(messages|secure|maillog|cron|spooler|boot\.log)$/, why: 'rsyslog: the files of AL2023\'s configuration' },
  { pattern: /^\/run\/rsyslogd\.pid$/, why: 'rsyslogd\'s PID file' },
  { pattern: /^\/var\/cache\/man(\/[a-z0-9]+)?(\/[a-z0-9_.-]+\.[0-9]\.gz)?$/, why: 'systemd-analyze verify reads the man pages of a unit\'s Documentation= (rsyslog\'s); man caches them' },
];

/** What the web tier's boot may write. */
export const WEB_WRITES: AllowedWrite[] = [
  ...COMMON_WRITES,
  { pattern: new RegExp(`^${WEB_PATHS.nginxConfig.replace(/\//g, '\\/')}$`), why: 'the NGINX configuration' },
  { pattern: new RegExp(`^${WEB_PATHS.siteRoot.replace(/\//g, '\\/')}(\\/.*)?$`), why: 'the site (or the placeholder page)' },
  { pattern: new RegExp(`^(${WEB_PATHS.reresolveService}|${WEB_PATHS.reresolveTimer})$`.replace(/\//g, '\\/')), why: 'the re-resolve service and timer' },
  { pattern: new RegExp(`^${AL2023_NGINX.unit.replace(/\//g, '\\/')}$`), why: 'dnf install nginx: the package\'s unit' },
  { pattern: /^\/var\/lib\/nginx(\/.*)?$/, why: 'dnf install nginx (its home and temp directory), NGINX\'s temp files' },
  { pattern: /^\/var\/log\/nginx(\/.*)?$/, why: 'dnf install nginx (log directory), NGINX\'s logs' },
  { pattern: /^\/run\/nginx\.pid$/, why: 'NGINX\'s PID file' },
];

/** What the app tier's boot may write. */
export const APP_WRITES: AllowedWrite[] = [
  ...COMMON_WRITES,
  { pattern: new RegExp(`^${APP_PATHS.appDirectory.replace(/\//g, '\\/')}(\\/.*)?$`), why: 'the app' },
  { pattern: new RegExp(`^${APP_PATHS.configDirectory.replace(/\//g, '\\/')}(\\/.*)?$`), why: 'the environment file and start script' },
  { pattern: new RegExp(`^${APP_PATHS.unit.replace(/\//g, '\\/')}$`), why: 'the app\'s unit' },
  { pattern: new RegExp(`^(${[APP_PATHS.rsyslogRule, APP_PATHS.logrotate].join('|').replace(/[./]/g, (c) => `\\${c}`)})$`), why: 'the rsyslog rule and logrotate file of the API\'s log' },
  { pattern: new RegExp(`^${dirname(APP_PATHS.logFile).replace(/\//g, '\\/')}(\\/.*)?$`), why: 'the API\'s log (rsyslog creates it)' },
  { pattern: /^\/usr\/bin\/node-[0-9]+$/, why: 'dnf install nodejs<major>: the versioned binary' },
  { pattern: /^\/usr\/bin\/python3\.[0-9]+$/, why: 'dnf install python3 / python3.<minor>: the versioned interpreter' },
  { pattern: /^\/usr\/local\/bin\/node$/, why: 'the boot links node to the installed version' },
];

/**
 * Every file or directory the boot created, changed or deleted (compared with the listing taken
 * just before the user data ran) is allowed; /tmp is empty again.
 */
export function checkWrites(instance: RehearsedInstance, allowed: AllowedWrite[]): string[] {
  const { before, after } = instance.listings();
  const problems: string[] = [];
  const changed = (b: ListedFile | undefined, a: ListedFile) => !b || b.type !== a.type || b.mode !== a.mode || b.owner !== a.owner
    || b.link !== a.link || b.hash !== a.hash || (a.type !== 'd' && b.size !== a.size);
  const touched: Array<[string, string]> = [];
  for (const [p, a] of after) {
    const b = before.get(p);
    if (!changed(b, a)) continue;
    if (a.type === 'd' && !b && a.layer === 'upper') {
      // A directory in the upper layer is a copy-up of one that was there, unless it is new or its metadata changed.
      try {
        const lower = fs.lstatSync(p);
        if (lower.isDirectory() && (lower.mode & 0o7777).toString(8) === a.mode && `${lower.uid}:${lower.gid}` === a.owner) continue;
      } catch {
        // new directory
      }
    }
    touched.push([p, a.type === 'c' ? 'deleted' : b ? 'changed' : 'created']);
  }
  for (const p of before.keys()) if (!after.has(p)) touched.push([p, 'deleted']);
  for (const [p, what] of touched) {
    if (p === '/tmp' || p.startsWith('/tmp/')) {
      problems.push(`${p} ${what} and left in /tmp`);
      continue;
    }
    if (!allowed.some((w) => w.pattern.test(p))) problems.push(`${p} ${what}: not a path the boot is meant to write`);
  }
  return problems;
}
