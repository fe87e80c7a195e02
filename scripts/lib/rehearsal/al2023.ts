/**
 * What the boot scripts take for granted about Amazon Linux 2023, in one place: package names,
 * paths and users that exist on an instance but cannot be rehearsed on Debian as they are. The
 * rehearsal's stand-ins (standins/dnf.js) read these, and test/al2023-facts.test.ts checks them
 * against test/fixtures/al2023-facts.json, which names the source of each fact and when it was
 * looked up.
 */

/** A package the boot scripts install with `dnf install -y`, and what stands in for it here. */
export interface Al2023Package {
  /** The AL2023 package name, as the boot script names it. */
  readonly name: string;
  /** The Debian packages that provide the same programs on the rehearsal machine (must be installed). */
  readonly debianPackages: string[];
  /**
   * What the AL2023 package does at install time that the rehearsal repeats, so that the boot
   * script finds what it would find on an instance (see standins/dnf.js).
   */
  readonly installs: string;
  /**
   * A versioned interpreter the AL2023 package installs (e.g. /usr/bin/python3.12) that the boot
   * script calls by that path or name: the dnf stand-in links it to this machine's interpreter when
   * this machine has none by that name.
   *
   * @default - none
   */
  readonly binary?: string;
}

/** Node.js major versions AL2023 packages as `nodejs<major>` (the app tier allows these). */
export const AL2023_NODE_MAJORS = [20, 22, 24];

/** The Node.js package of a major version, and the versioned binary it installs. */
export function al2023NodePackage(major: number): { readonly name: string; readonly binary: string } {
  return { name: `nodejs${major}`, binary: `/usr/bin/node-${major}` };
}

/**
 * Python versions AL2023 packages (the app tier's `AppRuntime.python()` allows these): the system
 * Python 3.9 (package `python3`, /usr/bin/python3 -> /usr/bin/python3.9) and the namespaced
 * `python3.<minor>` packages, each with its pip in `<package>-pip`.
 */
export const AL2023_PYTHON_VERSIONS = ['3.9', '3.11', '3.12', '3.13'];

/** The system Python of AL2023, for the life of the release. */
export const AL2023_SYSTEM_PYTHON = '3.9';

/** The packages of a Python version (interpreter, pip) and the versioned interpreter it installs. */
export function al2023PythonPackages(version: string): { readonly name: string; readonly pip: string; readonly binary: string } {
  const name = version === AL2023_SYSTEM_PYTHON ? 'python3' : `python${version}`;
  return { name, pip: `${name}-pip`, binary: `/usr/bin/python${version}` };
}

/** Paths and users of AL2023's nginx package. */
export const AL2023_NGINX = {
  user: 'nginx',
  group: 'nginx',
  home: '/var/lib/nginx',
  shell: '/sbin/nologin',
  comment: 'Nginx web server',
  binary: '/usr/sbin/nginx',
  config: '/etc/nginx/nginx.conf',
  mimeTypes: '/etc/nginx/mime.types',
  webRoot: '/usr/share/nginx/html',
  logDirectory: '/var/log/nginx',
  pidFile: '/run/nginx.pid',
  unit: '/usr/lib/systemd/system/nginx.service',
};

/**
 * The nginx unit of AL2023's package (Fedora's, from which AL2023 builds it): `nginx -t` before
 * the start, a forking master that writes /run/nginx.pid, reload by signal.
 */
export const AL2023_NGINX_UNIT = [
  '[Unit]',
  'Description=The nginx HTTP and reverse proxy server',
  'After=network-online.target remote-fs.target nss-lookup.target',
  'Wants=network-online.target',
  '',
  '[Service]',
  'Type=forking',
  'PIDFile=/run/nginx.pid',
  'ExecStartPre=/usr/bin/rm -f /run/nginx.pid',
  'ExecStartPre=/usr/sbin/nginx -t',
  'ExecStart=/usr/sbin/nginx',
  'ExecReload=/usr/sbin/nginx -s reload',
  'KillSignal=SIGQUIT',
  'TimeoutStopSec=5',
  'KillMode=mixed',
  'PrivateTmp=true',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
  '',
].join('\n');

/** Where aws-cfn-bootstrap puts the CloudFormation helper scripts. */
export const AL2023_CFN_SIGNAL = '/opt/aws/bin/cfn-signal';

/** The system CA bundle (what NGINX verifies the internal load balancer's certificate with). */
export const AL2023_CA_BUNDLE = '/etc/pki/tls/certs/ca-bundle.crt';

/** Where the amazon-cloudwatch-agent package installs the agent, its control script and its configuration. */
export const AL2023_CLOUDWATCH_AGENT = {
  home: '/opt/aws/amazon-cloudwatch-agent',
  ctl: '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl',
  config: '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json',
};

/** Paths of AL2023's rsyslog package. */
export const AL2023_RSYSLOG = {
  binary: '/usr/sbin/rsyslogd',
  config: '/etc/rsyslog.conf',
  configDirectory: '/etc/rsyslog.d',
  sysconfig: '/etc/sysconfig/rsyslog',
  workDirectory: '/var/lib/rsyslog',
  unit: '/usr/lib/systemd/system/rsyslog.service',
  systemLog: '/var/log/messages',
};

/**
 * The rsyslog unit of AL2023's package (Fedora's, from which AL2023 builds it): rsyslogd in the
 * foreground, Type=notify, options from /etc/sysconfig/rsyslog.
 */
export const AL2023_RSYSLOG_UNIT = [
  '[Unit]',
  'Description=System Logging Service',
  'Documentation=man:rsyslogd(8)',
  'Documentation=https://www.rsyslog.com/doc/',
  'Wants=network.target network-online.target',
  'After=network.target network-online.target',
  '',
  '[Service]',
  'Type=notify',
  `EnvironmentFile=-${AL2023_RSYSLOG.sysconfig}`,
  `ExecStart=${AL2023_RSYSLOG.binary} -n $SYSLOGD_OPTIONS`,
  'ExecReload=/bin/kill -HUP $MAINPID',
  'UMask=0066',
  'StandardOutput=null',
  'Restart=on-failure',
  'LimitNOFILE=16384',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
  '',
].join('\n');

/**
 * The rsyslog configuration of AL2023's package (Fedora's, without its comments and the commented-out
 * parts): the journal read by imjournal, the local socket off, /etc/rsyslog.d/*.conf included before
 * the rules, the system log in /var/log/messages. Fedora's current file also gives imjournal
 * `FileCreateMode="0644"` (its state file's mode), which Debian 12's rsyslogd (8.2302) refuses as an
 * unknown parameter: left out here.
 */
export const AL2023_RSYSLOG_CONFIG = [
  `global(workDirectory="${AL2023_RSYSLOG.workDirectory}")`,
  'module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")',
  'module(load="imuxsock" SysSock.Use="off")',
  'module(load="imjournal" UsePid="system" StateFile="imjournal.state")',
  `include(file="${AL2023_RSYSLOG.configDirectory}/*.conf" mode="optional")`,
  `*.info;mail.none;authpriv.none;cron.none ${AL2023_RSYSLOG.systemLog}`,
  'authpriv.* /var/log/secure',
  'mail.* -/var/log/maillog',
  'cron.* /var/log/cron',
  '*.emerg :omusrmsg:*',
  'uucp,news.crit /var/log/spooler',
  'local7.* /var/log/boot.log',
  '',
].join('\n');

/** Every package a boot script may install, by AL2023 name. */
export const AL2023_PACKAGES: Al2023Package[] = [
  {
    name: 'aws-cfn-bootstrap',
    debianPackages: [],
    installs: `the CloudFormation helper scripts in /opt/aws/bin; here only ${AL2023_CFN_SIGNAL}, the cfn-signal stand-in`,
  },
  {
    name: 'nginx',
    debianPackages: ['nginx'],
    installs: `the nginx user and group (home ${AL2023_NGINX.home}, shell ${AL2023_NGINX.shell}), ${AL2023_NGINX.unit}, `
      + `${AL2023_NGINX.logDirectory} and ${AL2023_NGINX.home}/tmp`,
  },
  {
    name: 'amazon-cloudwatch-agent',
    debianPackages: [],
    installs: `the CloudWatch agent in ${AL2023_CLOUDWATCH_AGENT.home}; here only ${AL2023_CLOUDWATCH_AGENT.ctl}, the agent control `
      + 'stand-in (validates the configuration it is given and records what it would run; no agent runs)',
  },
  {
    name: 'rsyslog',
    debianPackages: ['rsyslog'],
    installs: `${AL2023_RSYSLOG.unit}, ${AL2023_RSYSLOG.config}, ${AL2023_RSYSLOG.sysconfig} (AL2023's, in place of Debian's) `
      + `and ${AL2023_RSYSLOG.workDirectory}; ${AL2023_RSYSLOG.binary} is Debian's rsyslogd`,
  },
  {
    name: 'unzip',
    debianPackages: ['unzip'],
    installs: 'nothing more (Debian\'s unzip is the same Info-ZIP program)',
  },
  ...AL2023_NODE_MAJORS.map((major) => ({
    name: al2023NodePackage(major).name,
    debianPackages: ['nodejs'],
    installs: `${al2023NodePackage(major).binary}, linked to this machine's node (the only Node.js here, whatever its major version)`,
  })),
  ...AL2023_PYTHON_VERSIONS.flatMap((version): Al2023Package[] => {
    const python = al2023PythonPackages(version);
    return [
      {
        name: python.name,
        // python3-venv: Debian splits ensurepip out of python3, which `python3.X -m venv` needs.
        debianPackages: ['python3', 'python3-venv'],
        installs: `${python.binary}, linked to this machine's python3 when it has no ${python.binary} (Debian 12's python3, 3.11, `
          + 'stands for every version), with the venv module',
        binary: python.binary,
      },
      {
        name: python.pip,
        debianPackages: ['python3-pip'],
        installs: 'nothing more (Debian\'s pip for python3; a venv gets its own pip from ensurepip)',
      },
    ];
  }),
];

/** The AL2023 package of a name, or undefined when AL2023 has none by that name (as far as this list knows). */
export function al2023Package(name: string): Al2023Package | undefined {
  return AL2023_PACKAGES.find((p) => p.name === name);
}
