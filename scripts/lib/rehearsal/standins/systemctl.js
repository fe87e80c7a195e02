/*
 * Stand-in for systemctl, at /usr/bin/systemctl inside a rehearsed instance (systemd is installed
 * on the rehearsal machine but is not PID 1 there, and no namespace can make it so). Implements
 * what boot scripts call: daemon-reload, enable [--now], start, restart, reload, is-active.
 *
 * - enable: checks the unit file with `systemd-analyze verify` (stricter than systemd: any warning
 *   fails), then creates the [Install] symlinks systemctl creates (WantedBy=, RequiredBy=, Alias=).
 * - start of a service: runs ExecStartPre=, ExecStart=, ExecStartPost= as systemd would for
 *   Type=simple/exec/forking/oneshot: as User=/Group= (setpriv), in WorkingDirectory=, with the
 *   environment systemd builds (default PATH, USER/LOGNAME/HOME/SHELL for User=, Environment=,
 *   then EnvironmentFile= parsed by systemd's own parser: the libsystemd-shared helper), with
 *   NoNewPrivileges= applied. Command lines are split by systemd's rules for quotes, escapes and
 *   $VAR/${VAR}; a % specifier other than %% fails (not implemented).
 * - start of a timer: checks that the unit it triggers exists; nothing fires (the rehearsal ends
 *   long before OnBootSec=).
 * Not applied, and recorded as such: the sandboxing directives (ProtectSystem=, ProtectHome=,
 * PrivateTmp=, ...), Restart= (no supervision), resource limits. Output of each unit goes to
 * /run/rehearsal/journal/UNIT.log; state and every call to /run/rehearsal/systemctl/.
 */
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const facts = JSON.parse(fs.readFileSync('/run/rehearsal/facts.json', 'utf8'));
const STATE_DIR = '/run/rehearsal/systemctl';
const JOURNAL = '/run/rehearsal/journal';
const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system', '/lib/systemd/system'];
/** systemd's PATH for services (systemd 252 without split-usr, as built for AL2023). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin';
const NOT_APPLIED = ['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'PrivateNetwork', 'ProtectKernelTunables',
  'ProtectKernelModules', 'ProtectControlGroups', 'RestrictAddressFamilies', 'ReadWritePaths', 'ReadOnlyPaths', 'CapabilityBoundingSet',
  'AmbientCapabilities', 'SystemCallFilter', 'MemoryMax', 'LimitNOFILE', 'Restart', 'RestartSec', 'KillMode', 'KillSignal', 'TimeoutStopSec',
  'TimeoutStartSec'];
const HANDLED = ['Type', 'ExecStartPre', 'ExecStart', 'ExecStartPost', 'ExecReload', 'User', 'Group', 'WorkingDirectory', 'Environment',
  'EnvironmentFile', 'PIDFile', 'NoNewPrivileges', 'ExecStop'];

fs.mkdirSync(STATE_DIR, { recursive: true });
fs.mkdirSync(JOURNAL, { recursive: true });
const stateFile = path.join(STATE_DIR, 'state.json');
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { calls: [], units: {} };
const argv = process.argv.slice(2);
state.calls.push(argv);
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 2));

class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}

function unitName(name) {
  return /\.(service|timer|target|socket|path|mount)$/.test(name) ? name : `${name}.service`;
}

function unitPath(name) {
  for (const dir of UNIT_DIRS) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** A unit file's sections: { Section: { Key: [values...] } }, with systemd's continuation and reset rules. */
function parseUnit(file) {
  const sections = {};
  let current;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]}`;
    line = line.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]] = sections[section[1]] ?? {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) fail(`${file}: cannot parse line ${i + 1}: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (value === '') current[key] = [];
    else (current[key] = current[key] ?? []).push(value);
  }
  return sections;
}

function last(section, key) {
  const v = section?.[key];
  return v && v.length > 0 ? v[v.length - 1] : undefined;
}

function bool(value) {
  return ['1', 'yes', 'true', 'on'].includes(String(value).toLowerCase());
}

/** Splits one Environment= value into assignments (systemd quoting). */
function splitWords(text, env) {
  const words = [];
  let i = 0;
  const escapes = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', '"': '"', "'": "'", s: ' ' };
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    let word = '';
    let quoted = false;
    let splittable = false;
    while (i < text.length && !/\s/.test(text[i])) {
      const c = text[i];
      if (c === '"' || c === "'") {
        quoted = true;
        const end = text.indexOf(c, i + 1);
        if (end < 0) fail(`unbalanced quotes in: ${text}`);
        let inner = text.slice(i + 1, end);
        inner = inner.replace(/\\(.)/g, (m, e) => (e in escapes ? escapes[e] : fail(`unknown escape \\${e} in: ${text}`)));
        word += env ? expand(inner, env, false).join('') : inner;
        i = end + 1;
      } else if (c === '\\') {
        const e = text[i + 1];
        if (e === undefined) fail(`trailing backslash in: ${text}`);
        word += e in escapes ? escapes[e] : fail(`unknown escape \\${e} in: ${text}`);
        i += 2;
      } else if (c === '$' && env) {
        const m = /^\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.slice(i));
        if (m) {
          if (m[3]) splittable = true;
          word += env[m[2] ?? m[3]] ?? '';
          i += m[0].length;
        } else {
          word += c;
          i++;
        }
      } else {
        word += c;
        i++;
      }
    }
    // `$NAME` alone is split at whitespace into several words; `${NAME}` stays one word.
    if (splittable && !quoted) words.push(...word.split(/\s+/).filter(Boolean));
    else words.push(word);
  }
  return words;
}

function expand(text, env) {
  return [text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => env[a ?? b] ?? '')];
}

/** One Exec*= line: its prefixes and argv, after specifiers and variables. */
function commandLine(value, env) {
  const m = /^([-@:+!]*)(.*)$/.exec(value);
  const prefixes = m[1];
  if (/[@:+!]/.test(prefixes)) fail(`Exec prefix '${prefixes}' is not implemented by the systemctl stand-in: ${value}`);
  const specifier = /%([^%])/.exec(m[2]);
  if (specifier) fail(`specifier %${specifier[1]} is not implemented by the systemctl stand-in: ${value}`);
  const argvOut = splitWords(m[2].replace(/%%/g, '%'), env);
  if (argvOut.length === 0) fail(`empty command line: ${value}`);
  if (!argvOut[0].startsWith('/')) {
    const found = DEFAULT_PATH.split(':').map((d) => path.join(d, argvOut[0])).find((p) => fs.existsSync(p));
    if (!found) fail(`Executable "${argvOut[0]}" not found in ${DEFAULT_PATH}`);
    argvOut[0] = found;
  }
  return { ignoreFailure: prefixes.includes('-'), argv: argvOut };
}

function getent(db, key) {
  const r = spawnSync('getent', [db, key], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(':') : undefined;
}

/** Parses an environment file with systemd's own parser (the libsystemd-shared helper). */
function environmentFile(file) {
  const r = spawnSync('/run/rehearsal/bin/systemd-env-parse', [facts.libsystemdShared, file], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) fail(`the systemd environment parser failed on ${file}: ${r.stderr}`);
  const parts = r.stdout.toString('utf8').split('\0');
  const status = Number(parts[0]);
  const entries = [];
  for (let i = 1; i < parts.length && parts[i] !== ''; i++) {
    const eq = parts[i].indexOf('=');
    entries.push([parts[i].slice(0, eq), parts[i].slice(eq + 1)]);
  }
  const dropped = r.stderr.toString('utf8').trim();
  return { status, entries, dropped };
}

/** How a service's processes run: identity, directory, environment (as systemd builds them). */
function execContext(name, service) {
  const record = state.units[name];
  const env = { PATH: DEFAULT_PATH, INVOCATION_ID: require('crypto').randomBytes(16).toString('hex') };
  let uid = 0;
  let gid = 0;
  let home = '/root';
  const user = last(service, 'User');
  if (user) {
    const pw = getent('passwd', user);
    if (!pw) fail(`${name}: Failed to determine user credentials: No such process (User=${user} does not exist; systemd: status=217/USER)`);
    [uid, gid, home] = [Number(pw[2]), Number(pw[3]), pw[5]];
    Object.assign(env, { USER: user, LOGNAME: user, HOME: pw[5], SHELL: pw[6] });
  }
  const group = last(service, 'Group');
  if (group) {
    const gr = getent('group', group);
    if (!gr) fail(`${name}: Failed to determine group credentials (Group=${group} does not exist; systemd: status=216/GROUP)`);
    gid = Number(gr[2]);
  }
  for (const value of service.Environment ?? []) {
    for (const assignment of splitWords(value)) {
      const eq = assignment.indexOf('=');
      if (eq <= 0) fail(`${name}: invalid Environment= assignment: ${assignment}`);
      env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  for (const value of service.EnvironmentFile ?? []) {
    const optional = value.startsWith('-');
    const file = optional ? value.slice(1) : value;
    if (!fs.existsSync(file)) {
      if (optional) continue;
      fail(`${name}: Failed to load environment files: No such file or directory (${file}; systemd: status=226/NAMESPACE)`);
    }
    const parsed = environmentFile(file);
    if (parsed.status < 0) fail(`${name}: Failed to load environment file ${file}: error ${parsed.status}`);
    if (parsed.dropped) record.droppedEnvironment = parsed.dropped;
    for (const [k, v] of parsed.entries) env[k] = v;
  }
  let cwd = '/';
  const wd = last(service, 'WorkingDirectory');
  if (wd) {
    const optional = wd.startsWith('-');
    const dir = (optional ? wd.slice(1) : wd).replace(/^~/, home);
    if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) cwd = dir;
    else if (!optional) fail(`${name}: Changing to the requested working directory failed: No such file or directory (${dir}; systemd: status=200/CHDIR)`);
  }
  return { uid, gid, cwd, env, noNewPrivileges: bool(last(service, 'NoNewPrivileges')) };
}

function spawnAs(ctx, argvIn, name, detached) {
  const log = fs.openSync(path.join(JOURNAL, `${name}.log`), 'a');
  const wrapped = ['--reuid', String(ctx.uid), '--regid', String(ctx.gid), ...(ctx.uid === 0 ? ['--clear-groups'] : ['--init-groups']),
    ...(ctx.noNewPrivileges ? ['--no-new-privs'] : []), '--', ...argvIn];
  return spawn('/usr/bin/setpriv', wrapped, { cwd: ctx.cwd, env: ctx.env, detached, stdio: ['ignore', log, log] });
}

function runToEnd(ctx, cmd, name) {
  return new Promise((resolve) => {
    const child = spawnAs(ctx, cmd.argv, name, false);
    child.on('error', (e) => resolve({ code: 203, error: e.message }));
    child.on('exit', (code, signal) => resolve({ code: code ?? 128, signal }));
  });
}

function jobFailed(name) {
  return `Job for ${name} failed because the control process exited with error code.\n`
    + `See "systemctl status ${name}" and "journalctl -xeu ${name}" for details.`;
}

async function startService(name, file) {
  const unit = parseUnit(file);
  const service = unit.Service ?? {};
  const record = state.units[name] = { ...(state.units[name] ?? {}), file, state: 'activating' };
  record.notApplied = Object.keys(service).filter((k) => NOT_APPLIED.includes(k));
  record.ignored = Object.keys(service).filter((k) => !NOT_APPLIED.includes(k) && !HANDLED.includes(k));
  const type = last(service, 'Type') ?? ((service.ExecStart ?? []).length ? 'simple' : 'oneshot');
  if (!['simple', 'exec', 'forking', 'oneshot', 'notify'].includes(type)) fail(`${name}: Type=${type} is not implemented by the systemctl stand-in`);
  record.type = type;
  let ctx;
  try {
    ctx = execContext(name, service);
  } catch (e) {
    // For Type=simple (and notify), the start job is done once systemd has forked: what fails in
    // the child (user, directory, environment file) fails the service, not `systemctl start`.
    if (!(e instanceof Failure) || !['simple', 'notify'].includes(type) || (service.ExecStartPre ?? []).length > 0) throw e;
    record.state = 'failed';
    record.failure = e.message;
    return;
  }
  record.environment = ctx.env;
  record.uid = ctx.uid;
  record.cwd = ctx.cwd;
  const run = async (key) => {
    for (const value of service[key] ?? []) {
      const cmd = commandLine(value, ctx.env);
      const r = await runToEnd(ctx, cmd, name);
      (record.ran = record.ran ?? []).push({ key, argv: cmd.argv, code: r.code });
      if (r.code !== 0 && !cmd.ignoreFailure) {
        record.state = 'failed';
        fail(jobFailed(name));
      }
    }
  };
  await run('ExecStartPre');
  const starts = service.ExecStart ?? [];
  if (type !== 'oneshot' && starts.length !== 1) fail(`${name}: Type=${type} needs exactly one ExecStart=`);
  if (type === 'oneshot' || type === 'forking') {
    await run('ExecStart');
    if (type === 'forking') {
      const pidFile = last(service, 'PIDFile');
      const pid = pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim()) : undefined;
      if (pidFile && !pid) {
        record.state = 'failed';
        fail(`${name}: Can't open PID file ${pidFile} (yet?) after start: No such file or directory\n${jobFailed(name)}`);
      }
      record.mainPid = pid;
    }
  } else {
    const cmd = commandLine(starts[0], ctx.env);
    const child = spawnAs(ctx, cmd.argv, name, true);
    record.mainPid = child.pid;
    record.execStart = cmd.argv;
    const spawnError = await new Promise((resolve) => {
      child.on('error', (e) => resolve(e.message));
      child.on('spawn', () => resolve(undefined));
    });
    if (spawnError) {
      record.state = 'failed';
      fail(`${name}: Failed to execute ${cmd.argv[0]}: ${spawnError} (systemd: status=203/EXEC)`);
    }
    child.unref();
  }
  await run('ExecStartPost');
  record.state = type === 'oneshot' ? 'inactive (dead, succeeded)' : 'active';
}

function verify(file) {
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  const output = `${r.stdout}${r.stderr}`.trim();
  (state.verified = state.verified ?? []).push({ file, code: r.status, output });
  if (r.status !== 0 || output !== '') fail(`systemd-analyze verify ${file} (exit ${r.status}):\n${output}`);
}

async function start(name) {
  const file = unitPath(name);
  if (!file) fail(`Failed to start ${name}: Unit ${name} not found.`);
  if (name.endsWith('.timer')) {
    const timer = parseUnit(file).Timer ?? {};
    const triggers = last(timer, 'Unit') ?? name.replace(/\.timer$/, '.service');
    if (!unitPath(triggers)) fail(`Failed to start ${name}: Unit ${triggers} not found.`);
    state.units[name] = { ...(state.units[name] ?? {}), file, state: 'active (waiting)', triggers };
    return;
  }
  if (!name.endsWith('.service')) fail(`the systemctl stand-in starts only services and timers (not ${name})`);
  await startService(name, file);
}

function enable(name) {
  const file = unitPath(name);
  if (!file) fail(`Failed to enable unit: Unit file ${name} does not exist.`);
  verify(file);
  const install = parseUnit(file).Install ?? {};
  const links = [
    ...(install.WantedBy ?? []).flatMap((v) => v.split(/\s+/)).map((t) => `/etc/systemd/system/${t}.wants/${name}`),
    ...(install.RequiredBy ?? []).flatMap((v) => v.split(/\s+/)).map((t) => `/etc/systemd/system/${t}.requires/${name}`),
    ...(install.Alias ?? []).flatMap((v) => v.split(/\s+/)).map((a) => `/etc/systemd/system/${a}`),
  ];
  if (links.length === 0) {
    process.stderr.write(`The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\nAlias= settings in the [Install] section, and DefaultInstance= for template\nunits). This means they are not meant to be enabled or disabled using systemctl.\n`);
  }
  for (const link of links) {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) {
      fs.symlinkSync(file, link);
      process.stderr.write(`Created symlink ${link} → ${file}.\n`);
    }
  }
  state.units[name] = { ...(state.units[name] ?? {}), file, enabled: true };
}

function isActive(name) {
  const u = state.units[name];
  if (!u || !u.state || !u.state.startsWith('active')) return false;
  if (u.mainPid) {
    try {
      process.kill(u.mainPid, 0);
    } catch {
      return false;
    }
  }
  return true;
}

async function main() {
  const flags = argv.filter((a) => a.startsWith('-'));
  const words = argv.filter((a) => !a.startsWith('-'));
  const unknown = flags.filter((f) => !['--now', '-q', '--quiet', '--no-block', '--no-pager'].includes(f));
  if (unknown.length) fail(`systemctl stand-in: options not implemented: ${unknown.join(' ')}`);
  const [verb, ...names] = words;
  const units = names.map(unitName);
  switch (verb) {
    case 'daemon-reload':
      return;
    case 'enable':
      for (const u of units) enable(u);
      if (flags.includes('--now')) for (const u of units) await start(u);
      return;
    case 'start':
      for (const u of units) await start(u);
      return;
    case 'restart':
      for (const u of units) await start(u);
      return;
    case 'reload':
      for (const u of units) {
        const file = unitPath(u);
        if (!file || !isActive(u)) fail(`Failed to reload ${u}: Unit ${u} is not active.`);
        const service = parseUnit(file).Service ?? {};
        const ctx = execContext(u, service);
        for (const value of service.ExecReload ?? []) {
          const r = await runToEnd(ctx, commandLine(value, ctx.env), u);
          if (r.code !== 0) fail(`Job for ${u} failed.`);
        }
      }
      return;
    case 'is-active': {
      const all = units.map((u) => isActive(u));
      if (!flags.includes('-q') && !flags.includes('--quiet')) process.stdout.write(all.map((a) => (a ? 'active' : 'inactive')).join('\n') + '\n');
      if (!all.every(Boolean)) process.exitCode = 3;
      return;
    }
    default:
      fail(`systemctl stand-in: '${verb ?? ''}' is not implemented`);
  }
}

main().then(() => save(), (e) => {
  save();
  process.stderr.write(`${e instanceof Failure ? e.message : e.stack}\n`);
  process.exit(1);
});
