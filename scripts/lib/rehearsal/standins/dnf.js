/*
 * Stand-in for AL2023's dnf, at /usr/bin/dnf inside a rehearsed instance. Implements `dnf install
 * -y PACKAGE...` only. Each AL2023 package name must be one the rehearsal knows (al2023.ts, written
 * to /run/rehearsal/facts.json): its Debian counterpart must be installed on this machine (nothing
 * is downloaded), and what the AL2023 package does at install time that the boot script relies on
 * is repeated (the nginx user, the nginx unit, /usr/bin/node-<major>, /usr/bin/python3.<minor>,
 * /opt/aws/bin/cfn-signal, the CloudWatch agent's control script, rsyslog's unit and configuration).
 * An unknown name fails the way dnf fails. Every call is logged to /run/rehearsal/dnf.log.
 */
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');

const facts = JSON.parse(fs.readFileSync('/run/rehearsal/facts.json', 'utf8'));
const args = process.argv.slice(2);
fs.appendFileSync('/run/rehearsal/dnf.log', `${JSON.stringify(args)}\n`);

function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const assumeYes = args.some((a) => a === '-y' || a === '--assumeyes');
const words = args.filter((a) => !a.startsWith('-'));
const unknownOptions = args.filter((a) => a.startsWith('-') && !['-y', '--assumeyes', '-q', '--quiet'].includes(a));
if (unknownOptions.length > 0) fail(`dnf stand-in: options not implemented: ${unknownOptions.join(' ')}`);
if (words[0] !== 'install') fail(`dnf stand-in: only \`dnf install -y PACKAGE...\` is implemented (got: dnf ${args.join(' ')})`);
const names = words.slice(1);
if (names.length === 0) fail('Error: Need to pass a list of pkgs to install');

const packages = names.map((name) => facts.packages.find((p) => p.name === name));
const missing = names.filter((_, i) => !packages[i]);
if (missing.length > 0) {
  // What dnf prints when a name matches no package in the enabled repositories.
  for (const m of missing) process.stderr.write(`No match for argument: ${m}\n`);
  fail(`Error: Unable to find a match: ${missing.join(' ')}`);
}
if (!assumeYes) {
  // Without -y, dnf asks; cloud-init gives it no terminal, so it aborts.
  process.stdout.write('Is this ok [y/N]: ');
  fail('Operation aborted.');
}

function debianInstalled(name) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'install ok installed';
}

function run(cmd, argv) {
  execFileSync(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
}

for (const pkg of packages) {
  const absent = pkg.debianPackages.filter((d) => !debianInstalled(d));
  if (absent.length > 0) {
    fail(`dnf stand-in: ${pkg.name} maps to the Debian package(s) ${absent.join(', ')}, which this machine does not have: apt-get install -y ${absent.join(' ')}`);
  }
  if (pkg.name === 'aws-cfn-bootstrap') {
    fs.mkdirSync('/opt/aws/bin', { recursive: true });
    fs.copyFileSync('/run/rehearsal/bin/cfn-signal', facts.cfnSignal);
    fs.chmodSync(facts.cfnSignal, 0o755);
  } else if (pkg.name === 'amazon-cloudwatch-agent') {
    const a = facts.cloudwatchAgent;
    fs.mkdirSync(require('path').dirname(a.ctl), { recursive: true });
    fs.mkdirSync(require('path').dirname(a.config), { recursive: true });
    fs.copyFileSync('/run/rehearsal/bin/amazon-cloudwatch-agent-ctl', a.ctl);
    fs.chmodSync(a.ctl, 0o755);
  } else if (pkg.name === 'rsyslog') {
    // Debian's rsyslogd with AL2023's unit and configuration (which read the journal and write /var/log/messages).
    const r = facts.rsyslog;
    fs.writeFileSync(r.unit, facts.rsyslogUnit, { mode: 0o644 });
    fs.writeFileSync(r.config, facts.rsyslogConfig, { mode: 0o644 });
    fs.mkdirSync(r.configDirectory, { recursive: true });
    fs.mkdirSync(require('path').dirname(r.sysconfig), { recursive: true });
    fs.writeFileSync(r.sysconfig, 'SYSLOGD_OPTIONS=""\n', { mode: 0o644 });
    fs.mkdirSync(r.workDirectory, { recursive: true, mode: 0o700 });
  } else if (pkg.name === 'nginx') {
    const n = facts.nginx;
    if (spawnSync('getent', ['group', n.group]).status !== 0) run('groupadd', ['-r', n.group]);
    if (spawnSync('getent', ['passwd', n.user]).status !== 0) {
      run('useradd', ['-r', '-d', n.home, '-g', n.group, '-s', n.shell, '-c', n.comment, n.user]);
    }
    fs.writeFileSync(n.unit, facts.nginxUnit, { mode: 0o644 });
    fs.mkdirSync(n.logDirectory, { recursive: true });
    fs.chmodSync(n.logDirectory, 0o711);
    fs.mkdirSync(`${n.home}/tmp`, { recursive: true });
    for (const dir of [n.home, `${n.home}/tmp`]) {
      run('chown', [`${n.user}:root`, dir]);
      fs.chmodSync(dir, 0o770);
    }
  } else if (/^nodejs[0-9]+$/.test(pkg.name)) {
    const binary = `/usr/bin/node-${pkg.name.slice('nodejs'.length)}`;
    if (!fs.existsSync(binary)) fs.symlinkSync('/usr/bin/node', binary);
  } else if (/^python3(\.[0-9]+)?$/.test(pkg.name)) {
    // AL2023's python3 (3.9) and python3.X install /usr/bin/python3.X; Debian 12 has only python3.11.
    if (!/^\/usr\/bin\/python3\.[0-9]+$/.test(pkg.binary ?? '')) fail(`dnf stand-in: no versioned interpreter known for ${pkg.name}`);
    if (!fs.existsSync(pkg.binary)) fs.symlinkSync('/usr/bin/python3', pkg.binary);
  }
  process.stdout.write(`Installed: ${pkg.name} (stand-in: ${pkg.installs})\n`);
}
process.stdout.write('Complete!\n');
