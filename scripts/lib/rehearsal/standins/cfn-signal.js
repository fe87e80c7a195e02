/*
 * Stand-in for aws-cfn-bootstrap's cfn-signal (resource-signal form), at /opt/aws/bin/cfn-signal
 * inside a rehearsed instance (the dnf stand-in puts it there when aws-cfn-bootstrap is
 * installed). Accepts the options of the real script, reads the instance ID from the metadata
 * service (IMDSv2) as the unique ID, and sends SignalResource to the emulator with the real AWS
 * CLI. moto 5.2.1 does not implement SignalResource (it answers HTTP 500, "The signal_resource
 * action has not been implemented"); the stand-in then checks what CloudFormation would check
 * before accepting a signal, that the stack has the resource, with ListStackResources (moto's
 * DescribeStackResource(s) fail with a server error on stacks holding resource types it does not
 * model: AttributeError 'NoneType' object has no attribute 'logical_resource_id'), and records
 * the signal in /run/rehearsal/signals.jsonl with both answers. Exits non-zero when the signal
 * could not be delivered or recorded, as cfn-signal does.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const http = require('http');

const VALUE_OPTIONS = new Map([
  ['-s', 'success'], ['--success', 'success'], ['-r', 'reason'], ['--reason', 'reason'], ['-d', 'data'], ['--data', 'data'],
  ['-i', 'id'], ['--id', 'id'], ['-e', 'exitCode'], ['--exit-code', 'exitCode'], ['--stack', 'stack'], ['--resource', 'resource'],
  ['--region', 'region'], ['--url', 'url'], ['--role', 'role'], ['--http-proxy', 'httpProxy'], ['--https-proxy', 'httpsProxy'],
  ['--access-key', 'accessKey'], ['--secret-key', 'secretKey'], ['-f', 'credentialFile'], ['--credential-file', 'credentialFile'],
]);

function usageError(message) {
  process.stderr.write(`usage: cfn-signal [options] [WaitConditionHandle URL]\ncfn-signal: error: ${message}\n`);
  process.exit(2);
}

const opts = {};
const positional = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const eq = a.indexOf('=');
  const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
  if (VALUE_OPTIONS.has(name)) {
    const value = name !== a ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) usageError(`${name} option requires an argument`);
    opts[VALUE_OPTIONS.get(name)] = value;
  } else if (a.startsWith('-')) {
    usageError(`no such option: ${a}`);
  } else {
    positional.push(a);
  }
}
if (positional.length > 0) usageError('the wait condition handle form is not implemented by the stand-in');
if (!opts.stack || !opts.resource) usageError('--stack and --resource are required to signal a resource');
if (opts.exitCode !== undefined && !/^-?[0-9]+$/.test(opts.exitCode)) usageError(`invalid exit code: ${opts.exitCode}`);

function imds(method, path, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '169.254.169.254', port: 80, method, path, headers, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`IMDS ${method} ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('IMDS timeout')));
    req.end();
  });
}

function aws(args) {
  const r = spawnSync('/usr/bin/aws', args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

(async () => {
  const token = await imds('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' });
  const uniqueId = opts.id ?? await imds('GET', '/latest/meta-data/instance-id', { 'X-aws-ec2-metadata-token': token });
  const success = opts.success !== undefined ? opts.success.toLowerCase() === 'true' : Number(opts.exitCode ?? 0) === 0;
  const status = success ? 'SUCCESS' : 'FAILURE';
  const region = opts.region ? ['--region', opts.region] : [];
  const signal = aws(['cloudformation', 'signal-resource', '--stack-name', opts.stack, '--logical-resource-id', opts.resource,
    '--unique-id', uniqueId, '--status', status, ...region]);
  const notImplemented = signal.code !== 0 && /500|Internal Server Error|not been implemented/i.test(signal.stderr);
  const check = notImplemented
    ? aws(['cloudformation', 'list-stack-resources', '--stack-name', opts.stack, ...region, '--output', 'json'])
    : undefined;
  const record = {
    stack: opts.stack,
    resource: opts.resource,
    region: opts.region,
    uniqueId,
    status,
    exitCode: opts.exitCode,
    reason: opts.reason,
    signalResource: { code: signal.code, stderr: signal.stderr.trim() },
    listStackResources: check ? { code: check.code, stdout: check.stdout, stderr: check.stderr.trim() } : undefined,
  };
  fs.appendFileSync('/run/rehearsal/signals.jsonl', `${JSON.stringify(record)}\n`);
  const listed = check && check.code === 0 ? JSON.parse(check.stdout).StackResourceSummaries ?? [] : [];
  const delivered = signal.code === 0 || listed.some((r) => r.LogicalResourceId === opts.resource);
  if (!delivered) {
    process.stderr.write(`cfn-signal: ${signal.stderr.trim() || 'SignalResource failed'}${check ? `\n${check.stderr.trim()}` : ''}\n`);
    process.exit(1);
  }
})().catch((e) => {
  process.stderr.write(`cfn-signal: ${e.message}\n`);
  process.exit(1);
});
