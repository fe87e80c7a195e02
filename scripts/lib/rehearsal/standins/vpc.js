/*
 * What surrounds EC2 instances, in a network namespace of its own (the "VPC") that every rehearsed
 * instance is linked to by a veth pair (its eth0, with a default route into the VPC): the instance
 * metadata service on 169.254.169.254:80 (IMDSv2 only, as the launch templates require; it tells
 * each instance apart by its address), the AWS API endpoint (a TCP port bridged to the emulator on
 * the host through a Unix socket, since the namespace has no route to the host), and the load
 * balancers in front of instances (TCP forwarders from a load balancer's address and listener port
 * to the target instances' address and port). Every metadata request is logged to imds.log.
 *
 * Usage: node vpc.js CONFIG.json   (written by network.ts; re-read for every metadata request, so
 * instances can be added while it runs)
 */
'use strict';
const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const crypto = require('crypto');

const configFile = process.argv[2];
const readConfig = () => JSON.parse(fs.readFileSync(configFile, 'utf8'));
const config = readConfig();
const share = path.dirname(process.argv[2]);
const imdsLog = fs.openSync(path.join(share, 'imds.log'), 'a');
const tokens = new Map();

function log(line) {
  fs.writeSync(imdsLog, `${new Date().toISOString()} ${line}\n`);
}

function metadata(p, i) {
  const document = {
    accountId: config.accountId,
    architecture: 'x86_64',
    availabilityZone: i.availabilityZone,
    imageId: i.imageId,
    instanceId: i.instanceId,
    instanceType: i.instanceType,
    pendingTime: i.launchTime,
    privateIp: i.privateIp,
    region: config.region,
    version: '2017-09-30',
  };
  const credentials = {
    Code: 'Success',
    LastUpdated: i.launchTime,
    Type: 'AWS-HMAC',
    AccessKeyId: 'ASIAREHEARSAL0000001',
    SecretAccessKey: 'rehearsal-secret-access-key',
    Token: 'rehearsal-session-token',
    Expiration: new Date(Date.now() + 6 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  const table = {
    '/latest/meta-data/instance-id': i.instanceId,
    '/latest/meta-data/instance-type': i.instanceType,
    '/latest/meta-data/ami-id': i.imageId,
    '/latest/meta-data/local-ipv4': i.privateIp,
    '/latest/meta-data/placement/region': config.region,
    '/latest/meta-data/placement/availability-zone': i.availabilityZone,
    '/latest/meta-data/iam/security-credentials/': i.roleName,
    [`/latest/meta-data/iam/security-credentials/${i.roleName}`]: JSON.stringify(credentials, null, 2),
    '/latest/meta-data/iam/info': JSON.stringify({ Code: 'Success', LastUpdated: i.launchTime, InstanceProfileArn: `arn:aws:iam::${config.accountId}:instance-profile/${i.roleName}`, InstanceProfileId: 'AIPAREHEARSAL' }),
    '/latest/dynamic/instance-identity/document': JSON.stringify(document, null, 2),
  };
  return table[p] ?? table[p.replace(/\/+$/, '')];
}

const imds = http.createServer((req, res) => {
  const answer = (status, body, headers = {}) => {
    log(`${req.socket.remoteAddress} ${req.method} ${req.url} -> ${status}`);
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };
  if (req.method === 'PUT' && req.url === '/latest/api/token') {
    const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return answer(400, 'Bad Request');
    const token = crypto.randomBytes(32).toString('base64');
    tokens.set(token, Date.now() + ttl * 1000);
    return answer(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'Method Not Allowed');
  const instance = readConfig().instances[req.socket.remoteAddress.replace(/^::ffff:/, '')];
  if (!instance) return answer(404, 'Not Found');
  // HttpTokens=required: a request without a valid session token is refused.
  const token = req.headers['x-aws-ec2-metadata-token'];
  if (typeof token !== 'string' || !(tokens.get(token) > Date.now())) return answer(401, 'Unauthorized');
  const value = metadata(req.url.split('?')[0], instance);
  if (value === undefined) return answer(404, 'Not Found');
  return answer(200, value);
});

function forward(listen, connect, name) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(connect);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    });
    server.on('error', (e) => reject(new Error(`${name}: ${e.message}`)));
    server.listen(listen, resolve);
  });
}

function sh(argv) {
  require('child_process').execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
}

(async () => {
  sh(['ip', 'link', 'set', 'lo', 'up']);
  const addresses = new Set(['169.254.169.254', config.awsAddress, ...(config.loadBalancers ?? []).map((lb) => lb.address)]);
  for (const a of addresses) sh(['ip', 'addr', 'add', `${a}/32`, 'dev', 'lo']);
  await new Promise((resolve, reject) => {
    imds.on('error', reject);
    imds.listen(80, '169.254.169.254', resolve);
  });
  await forward({ host: config.awsAddress, port: config.awsPort }, { path: config.awsSocket }, 'AWS endpoint bridge');
  for (const lb of config.loadBalancers ?? []) {
    // One target is enough for a rehearsal: the load balancer forwards every connection to it.
    await forward({ host: lb.address, port: lb.port }, { host: lb.target.host, port: lb.target.port }, `load balancer ${lb.address}:${lb.port}`);
  }
  fs.writeFileSync(path.join(share, 'vpc.ready'), `${process.pid}\n`);
})().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
