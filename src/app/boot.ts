import { shellArg, writeFileCommands } from '../private/shell';
import { renderEnvironmentFile, renderUnit } from '../private/systemd';

/** Where the app tier's instances keep what the library writes. */
export const APP_PATHS = {
  appDirectory: '/opt/app',
  configDirectory: '/etc/cdk-three-tier',
  environmentFile: '/etc/cdk-three-tier/app.env',
  startScript: '/etc/cdk-three-tier/start.sh',
  unit: '/etc/systemd/system/app.service',
};

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
  /** Node.js major version from the Amazon Linux 2023 repositories. */
  readonly nodeVersion: number;
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
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
    ]],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ]);
}

/**
 * The app tier's boot steps: install Node.js, create the unprivileged `app` user, install the app,
 * seed the application bucket, write the environment file, start script and unit, start the API and
 * wait for its health check. Every file is written with `writeFileCommands` and every value on a
 * command line goes through `shellArg`.
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
    `dnf install -y nodejs${options.nodeVersion} unzip`,
    `ln -sf "$(command -v node-${options.nodeVersion} || command -v node)" /usr/local/bin/node`,
    `id app >/dev/null 2>&1 || useradd --system --home-dir ${dir} --shell /sbin/nologin app`,
    `mkdir -p ${dir} ${APP_PATHS.configDirectory}`,
    ...options.sourceCommands,
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
