/*
 * Stand-in for the CloudWatch agent's control script, at
 * /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl inside a rehearsed instance
 * (installed by the dnf stand-in for amazon-cloudwatch-agent). Implements what boot scripts call:
 * `-a fetch-config -m ec2 [-s] -c file:PATH`. It checks the options as the real script does, reads
 * the configuration file and validates it (JSON; the sections and fields the library writes, with
 * the types the agent requires), then records what the real script would run
 * (/run/rehearsal/cloudwatch-agent.jsonl). No agent runs: nothing is sent to CloudWatch.
 * An invalid configuration fails (exit 1), as the real translation step does.
 */
'use strict';
const fs = require('fs');

const args = process.argv.slice(2);
const record = { argv: args };
function done(code, problems) {
  fs.appendFileSync('/run/rehearsal/cloudwatch-agent.jsonl', `${JSON.stringify({ ...record, code, problems })}\n`);
  if (problems.length) process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(code);
}

const options = {};
const flags = new Set();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-s') flags.add('s');
  else if (['-a', '-m', '-c'].includes(a) && i + 1 < args.length) options[a.slice(1)] = args[++i];
  else done(1, [`amazon-cloudwatch-agent-ctl stand-in: option not implemented: ${a}`]);
}
if (options.a !== 'fetch-config') done(1, [`amazon-cloudwatch-agent-ctl stand-in: only -a fetch-config is implemented (got ${options.a})`]);
if (options.m !== 'ec2') done(1, [`amazon-cloudwatch-agent-ctl stand-in: only -m ec2 is implemented (got ${options.m})`]);
const source = /^file:(\/.+)$/.exec(options.c ?? '');
if (!source) done(1, [`amazon-cloudwatch-agent-ctl stand-in: -c must be file:<absolute path> (got ${options.c})`]);
record.configFile = source[1];

let config;
try {
  config = JSON.parse(fs.readFileSync(source[1], 'utf8'));
} catch (e) {
  done(1, [`${source[1]}: ${e.message}`]);
}
record.config = config;

const problems = [];
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const known = { agent: 1, metrics: 1, logs: 1, traces: 1 };
if (!isObject(config)) done(1, [`${source[1]}: not a JSON object`]);
for (const k of Object.keys(config)) if (!known[k]) problems.push(`unknown section ${k}`);
const interval = config.agent?.metrics_collection_interval;
if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) problems.push(`agent.metrics_collection_interval ${interval} is not a positive integer`);
const metrics = config.metrics;
if (metrics !== undefined) {
  if (!isObject(metrics.metrics_collected) || Object.keys(metrics.metrics_collected).length === 0) problems.push('metrics.metrics_collected is empty');
  for (const [name, m] of Object.entries(metrics.metrics_collected ?? {})) {
    if (!Array.isArray(m.measurement) || m.measurement.length === 0 || m.measurement.some((x) => typeof x !== 'string')) problems.push(`metrics.metrics_collected.${name}.measurement is not a list of names`);
  }
  if (metrics.namespace !== undefined && (typeof metrics.namespace !== 'string' || metrics.namespace.startsWith('AWS/'))) problems.push(`metrics.namespace ${metrics.namespace} is not allowed`);
  for (const [k, v] of Object.entries(metrics.append_dimensions ?? {})) {
    if (!['ImageId', 'InstanceId', 'InstanceType', 'AutoScalingGroupName'].includes(k) || v !== `\${aws:${k}}`) problems.push(`metrics.append_dimensions.${k}: ${v} is not one the agent resolves`);
  }
  for (const d of metrics.aggregation_dimensions ?? []) if (!Array.isArray(d) || d.some((x) => typeof x !== 'string')) problems.push('metrics.aggregation_dimensions holds a non-list');
}
const files = config.logs?.logs_collected?.files?.collect_list;
if (config.logs !== undefined && !Array.isArray(files)) problems.push('logs.logs_collected.files.collect_list is not a list');
for (const [i, f] of (files ?? []).entries()) {
  if (typeof f.file_path !== 'string' || !f.file_path.startsWith('/')) problems.push(`collect_list[${i}].file_path ${f.file_path} is not an absolute path`);
  if (typeof f.log_group_name !== 'string' || !/^[A-Za-z0-9_./#-]{1,512}$/.test(f.log_group_name)) problems.push(`collect_list[${i}].log_group_name ${JSON.stringify(f.log_group_name)} is not a log group name`);
  if (f.log_stream_name !== undefined && typeof f.log_stream_name !== 'string') problems.push(`collect_list[${i}].log_stream_name is not a string`);
}
// What the real script does next: translate the JSON to the agent's TOML, then (with -s) restart
// the agent's service with it.
record.wouldRun = [
  `config-translator --input ${source[1]} --mode ec2 --output /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.toml`,
  ...(flags.has('s') ? ['systemctl restart amazon-cloudwatch-agent'] : []),
];
done(problems.length ? 1 : 0, problems);
