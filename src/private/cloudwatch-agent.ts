import { shellArg, writeFileCommands, BootFile } from './shell';

/**
 * The metric contract of the instances (alarms and the dashboard rely on it): the CloudWatch
 * agent publishes `mem_used_percent` and `disk_used_percent` (of `/`) in the `CWAgent` namespace,
 * each also aggregated to exactly one dimension, `AutoScalingGroupName`.
 */
export const AGENT_METRICS = {
  namespace: 'CWAgent',
  memoryUsedPercent: 'mem_used_percent',
  diskUsedPercent: 'disk_used_percent',
  /** The one dimension of the aggregated metrics. */
  dimension: 'AutoScalingGroupName',
  /** The file system whose use is measured. */
  diskPath: '/',
};

/** Where the agent's configuration is written, and the program that loads it. */
export const AGENT_PATHS = {
  config: '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json',
  ctl: '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl',
};

/**
 * The system log. Amazon Linux 2023 keeps logs in the journal only, which the agent cannot read:
 * rsyslog (installed by the boot steps) writes the journal to this file.
 */
export const SYSTEM_LOG_PATH = '/var/log/messages';

/** The packages the telemetry boot steps install from the Amazon Linux 2023 repositories. */
export const AGENT_PACKAGES = ['amazon-cloudwatch-agent', 'rsyslog'];

/** A log file the agent ships to a log group. */
export interface AgentLogFile {
  /** Absolute path of the file on the instance. */
  readonly filePath: string;
  /** The log group (its name may be a token: the group is created by the stack). */
  readonly logGroupName: string;
}

/** What the agent's configuration is rendered from. */
export interface AgentConfigOptions {
  /** The files shipped, each to its log group (one stream per instance). */
  readonly logFiles: AgentLogFile[];
  /** Seconds between two metric samples. @default 60 */
  readonly metricsIntervalSeconds?: number;
}

/**
 * Renders the CloudWatch agent's JSON configuration: memory and root-disk use in `CWAgent`, with
 * the Auto Scaling group's name appended and an aggregation to that dimension alone (so metrics
 * with exactly `AutoScalingGroupName` exist, which alarms per fleet need), and the given files, one
 * log stream per instance ID. Pure: the same options always give the same text.
 */
export function renderAgentConfig(options: AgentConfigOptions): string {
  const paths = options.logFiles.map((f) => f.filePath);
  for (const path of paths) {
    if (!/^(\/[A-Za-z0-9_.-]+)+$/.test(path)) throw new Error(`agent log file '${path}' is not a safe absolute path`);
  }
  if (new Set(paths).size !== paths.length) throw new Error(`agent log files repeat a path (${paths.join(', ')})`);
  const config = {
    agent: { metrics_collection_interval: options.metricsIntervalSeconds ?? 60 },
    metrics: {
      namespace: AGENT_METRICS.namespace,
      append_dimensions: { [AGENT_METRICS.dimension]: '${aws:AutoScalingGroupName}' },
      aggregation_dimensions: [[AGENT_METRICS.dimension]],
      metrics_collected: {
        mem: { measurement: [AGENT_METRICS.memoryUsedPercent] },
        disk: { measurement: ['used_percent'], resources: [AGENT_METRICS.diskPath] },
      },
    },
    logs: {
      logs_collected: {
        files: {
          collect_list: options.logFiles.map((f) => ({ file_path: f.filePath, log_group_name: f.logGroupName, log_stream_name: '{instance_id}' })),
        },
      },
    },
  };
  // Compact: it travels in the user data, which EC2 limits to 16 KB.
  return `${JSON.stringify(config)}\n`;
}

/**
 * The boot steps of the telemetry: install the agent and rsyslog, write the tier's extra files
 * (e.g. an rsyslog rule), start rsyslog, write the agent's configuration and start the agent with it.
 */
export function renderAgentBootCommands(config: string, files: BootFile[] = []): string[] {
  return [
    `dnf install -y ${AGENT_PACKAGES.join(' ')}`,
    ...files.flatMap(writeFileCommands),
    'systemctl enable rsyslog',
    'systemctl restart rsyslog',
    ...writeFileCommands({ path: AGENT_PATHS.config, content: config, mode: '0644' }),
    `${AGENT_PATHS.ctl} -a fetch-config -m ec2 -s -c ${shellArg(`file:${AGENT_PATHS.config}`)}`,
  ];
}

/** The files of a rendered agent configuration (for tests and the local harness). */
export function agentLogFilePaths(config: string): string[] {
  const parsed = JSON.parse(config) as { logs: { logs_collected: { files: { collect_list: Array<{ file_path: string }> } } } };
  return parsed.logs.logs_collected.files.collect_list.map((f) => f.file_path);
}

/**
 * The access and error log files of a rendered NGINX configuration (`access_log off` is skipped),
 * so the agent ships exactly the files NGINX writes.
 */
export function nginxLogPaths(nginxConfig: string): { readonly accessLogs: string[]; readonly errorLogs: string[] } {
  const find = (directive: string) => [...nginxConfig.matchAll(new RegExp(`^\\s*${directive}\\s+([^\\s;]+)`, 'gm'))]
    .map((m) => m[1])
    .filter((p) => p !== 'off');
  const unique = (list: string[]) => [...new Set(list)];
  return { accessLogs: unique(find('access_log')), errorLogs: unique(find('error_log')) };
}
