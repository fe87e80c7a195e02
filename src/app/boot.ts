import type { AppRuntimeConfig } from './app-runtime';
import { shellArg, writeFileCommands } from '../private/shell';
import { renderEnvironmentFile, renderUnit } from '../private/systemd';

/** Where the app tier's instances keep what the library writes. */
export const APP_PATHS = {
  appDirectory: '/opt/app',
  configDirectory: '/etc/cdk-three-tier',
  environmentFile: '/etc/cdk-three-tier/app.env',
  startScript: '/etc/cdk-three-tier/start.sh',
  unit: '/etc/systemd/system/app.service',
  /** The scripts of a custom runtime's install and prepare commands. */
  installScript: '/etc/cdk-three-tier/runtime-install.sh',
  prepareScript: '/etc/cdk-three-tier/runtime-prepare.sh',
  /** The API's output (stdout and stderr), written by rsyslog from the journal (see `renderAppLogRule`). */
  logFile: '/var/log/app/app.log',
  /** The rsyslog rule that writes it, and its rotation. */
  rsyslogRule: '/etc/rsyslog.d/30-app.conf',
  logrotate: '/etc/logrotate.d/app',
};

/** The journal's name for the API's output (the unit's `SyslogIdentifier`), which the rsyslog rule selects. */
export const APP_SYSLOG_IDENTIFIER = 'app';

/**
 * The rsyslog rule that copies the API's journal entries to `APP_PATHS.logFile`, for the CloudWatch
 * agent (which cannot read the journal). Chosen over `StandardOutput=append:` because the journal
 * keeps the output (`journalctl -u app` still works), rsyslog reopens the file after logrotate
 * (`append:` would need copytruncate, which loses lines), and rsyslog is installed anyway for the
 * system log. `stop` keeps the lines out of /var/log/messages.
 */
export function renderAppLogRule(): string {
  return [
    `if $programname == '${APP_SYSLOG_IDENTIFIER}' then {`,
    `  action(type="omfile" file="${APP_PATHS.logFile}" fileCreateMode="0640" createDirs="on")`,
    '  stop',
    '}',
    '',
  ].join('\n');
}

/** Daily rotation of the API's log file, kept 7 days on the instance (CloudWatch Logs keeps it longer). */
export function renderAppLogrotate(): string {
  return [
    `${APP_PATHS.logFile} {`,
    'daily', 'rotate 7', 'missingok', 'notifempty', 'compress', 'delaycompress',
    'postrotate', '/usr/bin/systemctl kill -s HUP rsyslog.service >/dev/null 2>&1 || true', 'endscript',
    '}', '',
  ].join('\n');
}

/** The S3 objects the app tier's boot copies into the application bucket. */
export interface AppSeed {
  /** Bucket and key of the zipped seed asset. */
  readonly assetBucketName: string;
  readonly assetObjectKey: string;
  /** The application bucket and the (validated) key prefix the files land under. */
  readonly bucketName: string;
  readonly prefix: string;
}

/** What the app tier's boot steps are made of (every value already validated). */
export interface AppBootOptions {
  /** What runs the app: its install and prepare commands (from `AppRuntime.bind`). */
  readonly runtime: AppRuntimeConfig;
  /** Commands that put the app into the app directory (from `AppSource.bind`). */
  readonly sourceCommands: string[];
  /** Files to copy into the application bucket, if any. */
  readonly seed?: AppSeed;
  /** The API's environment (values may hold tokens that stand for AWS-generated values). */
  readonly environment: { [name: string]: string };
  /** The command that starts the API (one line, run by /bin/sh). */
  readonly startCommand: string;
  /** Port and health check path the boot waits on before it signals success. */
  readonly port: number;
  readonly healthCheckPath: string;
}

/**
 * The start script app.service runs: the user's start command, as a file, so no byte of it passes
 * through systemd's ExecStart grammar (`%` specifiers, `$` expansion, quoting) on its way to the shell.
 */
export function renderStartScript(startCommand: string): string {
  return `#!/bin/sh\n# Rendered by cdk-three-tier: the app tier's startCommand, run in ${APP_PATHS.appDirectory} as the app user.\n${startCommand}\n`;
}

/**
 * A script of a custom runtime's commands, run by bash with `set -euo pipefail` (in `directory`
 * when given): the commands reach the instance as a file, so none of them can change how the boot
 * script itself is parsed.
 */
export function renderRuntimeScript(commands: string[], purpose: string, directory?: string): string {
  const cd = directory === undefined ? [] : [`cd ${shellArg(directory)}`];
  return ['#!/bin/bash', `# Rendered by cdk-three-tier: the app runtime's ${purpose}.`, 'set -euo pipefail', ...cd, ...commands, ''].join('\n');
}

/** The systemd unit of the API: unprivileged, sandboxed, restarted on failure. */
export function renderAppUnit(): string {
  return renderUnit([
    ['Unit', [
      ['Description', 'cdk-three-tier API'],
      ['After', 'network-online.target'],
      ['Wants', 'network-online.target'],
    ]],
    ['Service', [
      ['User', 'app'],
      ['Group', 'app'],
      ['WorkingDirectory', APP_PATHS.appDirectory],
      ['Environment', 'PATH=/usr/local/bin:/usr/bin:/bin'],
      ['EnvironmentFile', APP_PATHS.environmentFile],
      ['ExecStart', `/bin/sh ${APP_PATHS.startScript}`],
      ['Restart', 'on-failure'],
      ['RestartSec', '2'],
      ['SyslogIdentifier', APP_SYSLOG_IDENTIFIER],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
    ]],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ]);
}

/**
 * The app tier's boot steps: install the runtime, create the unprivileged `app` user, install the
 * app, prepare it (the runtime's prepare commands, e.g. its dependencies), seed the application
 * bucket, write the environment file, start script and unit, start the API and wait for its health
 * check. Every file is written with `writeFileCommands` and every value on a command line goes
 * through `shellArg` (the runtime's commands hold library constants only).
 */
export function renderAppBootCommands(options: AppBootOptions): string[] {
  const dir = APP_PATHS.appDirectory;
  const seed = options.seed
    ? [
      `aws s3 cp ${shellArg(`s3://${options.seed.assetBucketName}/${options.seed.assetObjectKey}`)} /tmp/seed.zip --only-show-errors`,
      'rm -rf /tmp/seed && mkdir -p /tmp/seed && unzip -o -q /tmp/seed.zip -d /tmp/seed',
      `aws s3 cp --recursive /tmp/seed ${shellArg(`s3://${options.seed.bucketName}/${options.seed.prefix}`)} --only-show-errors`,
      'rm -rf /tmp/seed /tmp/seed.zip',
    ]
    : [];
  return [
    ...options.runtime.installCommands,
    `id app >/dev/null 2>&1 || useradd --system --home-dir ${dir} --shell /sbin/nologin app`,
    `mkdir -p ${dir} ${APP_PATHS.configDirectory}`,
    ...options.sourceCommands,
    ...options.runtime.prepareCommands,
    ...seed,
    `chown -R root:app ${dir}`,
    `chmod -R u=rwX,g=rX,o= ${dir}`,
    ...writeFileCommands({ path: APP_PATHS.environmentFile, content: renderEnvironmentFile(options.environment), mode: '0640', owner: 'root:app' }),
    ...writeFileCommands({ path: APP_PATHS.startScript, content: renderStartScript(options.startCommand), mode: '0755' }),
    ...writeFileCommands({ path: APP_PATHS.unit, content: renderAppUnit(), mode: '0644' }),
    'systemctl daemon-reload',
    'systemctl enable --now app',
    `curl -fsS --retry 30 --retry-delay 2 --retry-connrefused ${shellArg(`http://127.0.0.1:${options.port}${options.healthCheckPath}`)}`,
  ];
}
