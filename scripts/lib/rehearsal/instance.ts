import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  AL2023_CFN_SIGNAL, AL2023_CLOUDWATCH_AGENT, AL2023_NGINX, AL2023_NGINX_UNIT, AL2023_PACKAGES, AL2023_RSYSLOG, AL2023_RSYSLOG_CONFIG,
  AL2023_RSYSLOG_UNIT,
} from './al2023';
import { AWS_ENDPOINT_ADDRESS, AWS_ENDPOINT_PORT, MetadataIdentity, RehearsalNetwork } from './network';
import { findExecutable } from '../tools';

/**
 * One rehearsed instance: the user data runs unmodified, as root, in namespaces of its own (mount,
 * network, PID) on a copy-on-write view of this machine's root, with stand-ins only for what exists
 * only on EC2. See README.md for what each stand-in replaces and why.
 */

const STANDINS = path.join(__dirname, 'standins');
const PARSER_SOURCE = path.join(__dirname, '..', 'systemd-env', 'parse.c');

export interface InstanceOptions {
  /** A label for logs and errors, e.g. `dev web`. */
  readonly name: string;
  /** The user data, every token resolved (see resolve.ts). */
  readonly userData: string;
  /** The VPC the instance is linked to (metadata service, AWS endpoint, load balancers). */
  readonly network: RehearsalNetwork;
  /** Who the instance is, as its metadata service says. */
  readonly identity: Omit<MetadataIdentity, 'launchTime'>;
  /** Host names the instance resolves (its /etc/hosts), e.g. a load balancer's DNS name. */
  readonly hosts?: Record<string, string>;
  /** How long the boot may take. @default 240_000 */
  readonly timeoutMs?: number;
}

/** One entry of a listing of the written files (instance.sh `snapshot`). */
export interface ListedFile {
  readonly layer: 'upper' | 'tmpfs';
  readonly path: string;
  /** find's %y: f file, d directory, l symlink, c character device (an overlay whiteout: a deletion). */
  readonly type: string;
  readonly mode: string;
  readonly owner: string;
  readonly size: number;
  readonly link: string;
  hash?: string;
}

let parserBinary: string | undefined;
/** Compiles the systemd environment-file helper (scripts/lib/systemd-env/parse.c) once per process. */
function systemdEnvParser(): string {
  if (parserBinary) return parserBinary;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rehearsal-parser-'));
  const out = path.join(dir, 'systemd-env-parse');
  const r = spawnSync('gcc', ['-O1', '-o', out, PARSER_SOURCE, '-ldl'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling ${PARSER_SOURCE} failed (gcc and libc6-dev are needed): ${r.error?.message ?? r.stderr}`);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  parserBinary = out;
  return out;
}

/** The newest libsystemd-shared-*.so (systemd's private library, which exports load_env_file). */
export function libsystemdShared(): string {
  const r = spawnSync('sh', ['-c', 'ls /usr/lib/*/systemd/libsystemd-shared-*.so /usr/lib/systemd/libsystemd-shared-*.so /usr/lib64/systemd/libsystemd-shared-*.so 2>/dev/null'], { encoding: 'utf8' });
  const found = r.stdout.split('\n').filter(Boolean).sort();
  if (found.length === 0) throw new Error('libsystemd-shared-*.so not found: install systemd (apt-get install -y systemd)');
  return found[found.length - 1];
}

/** Checks that this machine can rehearse (root, unshare, overlayfs, systemd, the Debian packages). */
export function rehearsalPrerequisites(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('the rehearsal runs as root (it mounts an overlay and creates namespaces)');
  for (const tool of ['unshare', 'nsenter', 'ip', 'setpriv', 'systemd-analyze', 'gcc', 'curl', 'aws']) {
    if (!findExecutable(tool)) problems.push(`${tool} is not installed`);
  }
  for (const pkg of [...new Set(AL2023_PACKAGES.flatMap((p) => p.debianPackages))]) {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
    if (r.stdout.trim() !== 'install ok installed') problems.push(`the Debian package ${pkg} is not installed (apt-get install -y ${pkg})`);
  }
  return problems;
}

/** The facts the stand-ins read (/run/rehearsal/facts.json): al2023.ts, as JSON. */
function facts(): object {
  return {
    packages: AL2023_PACKAGES,
    nginx: AL2023_NGINX,
    nginxUnit: AL2023_NGINX_UNIT,
    cfnSignal: AL2023_CFN_SIGNAL,
    cloudwatchAgent: AL2023_CLOUDWATCH_AGENT,
    rsyslog: AL2023_RSYSLOG,
    rsyslogUnit: AL2023_RSYSLOG_UNIT,
    rsyslogConfig: AL2023_RSYSLOG_CONFIG,
    libsystemdShared: libsystemdShared(),
  };
}

function which(name: string): string {
  const found = findExecutable(name);
  if (!found) throw new Error(`${name} is not installed`);
  return found;
}

const live = new Set<RehearsedInstance>();
process.on('exit', () => {
  for (const i of live) i.stopSync();
});

/** A booted instance: its exit code and output, its files, and its running services until `stop()`. */
export class RehearsedInstance {
  /** Boots an instance and waits for its user data to end. */
  public static async boot(options: InstanceOptions): Promise<RehearsedInstance> {
    const work = fs.mkdtempSync('/dev/shm/boot-rehearsal-');
    const share = path.join(work, 'share');
    fs.mkdirSync(path.join(share, 'bin'), { recursive: true });
    const node = process.execPath;
    const script = (file: string) => `#!${node}\n${fs.readFileSync(path.join(STANDINS, file), 'utf8')}`;
    fs.writeFileSync(path.join(share, 'bin', 'dnf'), script('dnf.js'), { mode: 0o755 });
    fs.writeFileSync(path.join(share, 'bin', 'systemctl'), script('systemctl.js'), { mode: 0o755 });
    fs.writeFileSync(path.join(share, 'bin', 'cfn-signal'), script('cfn-signal.js'), { mode: 0o755 });
    fs.writeFileSync(path.join(share, 'bin', 'amazon-cloudwatch-agent-ctl'), script('amazon-cloudwatch-agent-ctl.js'), { mode: 0o755 });
    fs.copyFileSync(systemdEnvParser(), path.join(share, 'bin', 'systemd-env-parse'));
    fs.chmodSync(path.join(share, 'bin', 'systemd-env-parse'), 0o755);
    // The real AWS CLI, pointed at the emulator through the VPC. AWS CLI v2 on an instance takes
    // the region from the metadata service; this machine's CLI v1 does not, so it gets it here.
    fs.writeFileSync(path.join(share, 'bin', 'aws'), [
      '#!/bin/sh',
      `export AWS_ENDPOINT_URL=http://${AWS_ENDPOINT_ADDRESS}:${AWS_ENDPOINT_PORT}`,
      `export AWS_DEFAULT_REGION="\${AWS_DEFAULT_REGION:-${options.network.region}}"`,
      'export PYTHONDONTWRITEBYTECODE=1',
      `exec ${which('aws')} "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });
    fs.writeFileSync(path.join(share, 'facts.json'), JSON.stringify(facts(), null, 2));
    fs.writeFileSync(path.join(share, 'user-data'), options.userData);
    const link = options.network.allocate({ ...options.identity, launchTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    const hosts = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback',
      `${link.address} ip-${link.address.replace(/\./g, '-')}.ec2.internal`,
      ...Object.entries(options.hosts ?? {}).map(([name, address]) => `${address} ${name}`)];
    fs.writeFileSync(path.join(share, 'hosts'), `${hosts.join('\n')}\n`);
    fs.writeFileSync(path.join(work, 'config.env'), [
      `VPC_NETNS=${options.network.netns}`,
      `VPC_INTERFACE=${link.vpcInterface}`,
      `INSTANCE_ADDRESS=${link.address}`,
      `GATEWAY_ADDRESS=${link.gateway}`,
      '',
    ].join('\n'));

    const started = Date.now();
    const child = spawn('unshare', ['--mount', '--net', '--pid', '--fork', '--kill-child', '--', 'bash', path.join(STANDINS, 'instance.sh'), work], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let setupOutput = '';
    child.stdout!.on('data', (d) => (setupOutput += d));
    child.stderr!.on('data', (d) => (setupOutput += d));
    const instance = new RehearsedInstance(options, work, child, link.address);
    live.add(instance);
    const deadline = started + (options.timeoutMs ?? 240_000);
    const statusFile = path.join(share, 'status');
    for (;;) {
      const status = fs.existsSync(statusFile) ? fs.readFileSync(statusFile, 'utf8').trim() : '';
      if (status.startsWith('done ')) {
        instance._exitCode = Number(status.slice('done '.length));
        break;
      }
      if (status.startsWith('setup-failed') || child.exitCode !== null) {
        await instance.stop();
        throw new Error(`${options.name}: the rehearsal's setup failed (${status || `exit ${child.exitCode}`}):\n${setupOutput}`);
      }
      if (Date.now() > deadline) {
        const output = instance.output;
        await instance.stop();
        throw new Error(`${options.name}: the user data did not end within ${(options.timeoutMs ?? 240_000) / 1000} s; its output:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    instance._durationMs = Date.now() - started;
    instance._nsPid = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return instance;
  }

  private _exitCode = -1;
  private _durationMs = 0;
  private _nsPid = 0;
  private stopped = false;

  private constructor(
    private readonly options: InstanceOptions,
    /** The work directory (on /dev/shm): share/, upper/. */
    public readonly work: string,
    private readonly child: ChildProcess,
    /** The instance's address in the VPC. */
    public readonly address: string,
  ) {}

  public get name(): string {
    return this.options.name;
  }

  /** The user data's exit code. */
  public get exitCode(): number {
    return this._exitCode;
  }

  /** Time from the namespaces' creation to the user data's end. */
  public get durationMs(): number {
    return this._durationMs;
  }

  /** The PID (in this machine's PID namespace) of the instance's first process. */
  public get nsPid(): number {
    return this._nsPid;
  }

  /** What the user data printed (cloud-init-output.log). */
  public get output(): string {
    return this.shareFile('cloud-init-output.log') ?? '';
  }

  /** A file of the instance's /run/rehearsal (the stand-ins' logs and records), or undefined. */
  public shareFile(name: string): string | undefined {
    const p = path.join(this.work, 'share', name);
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
  }

  /** Where a path of the instance's file system is, seen from this machine (while the instance runs). */
  public hostPath(p: string): string {
    return `/proc/${this.nsPid}/root${this.work}/root${p}`;
  }

  /** Reads a file of the instance (as bytes), or undefined when it does not exist. */
  public readFile(p: string): Buffer | undefined {
    try {
      return fs.readFileSync(this.hostPath(p));
    } catch {
      return undefined;
    }
  }

  /** lstat of a path of the instance, or undefined. */
  public stat(p: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(this.hostPath(p));
    } catch {
      return undefined;
    }
  }

  /** Runs a command in the instance's namespaces and root (like a shell on the instance). */
  public exec(argv: string[], opts: { env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('nsenter', ['-t', String(this.nsPid), '-m', '-n', '-p', '--', 'chroot', `${this.work}/root`, ...argv], {
      encoding: 'utf8', env: opts.env ?? { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' }, maxBuffer: 64 * 1024 * 1024,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** An HTTP GET from inside the instance's network namespace: status and body. */
  public httpGet(url: string): { status: number; body: string; error?: string } {
    const r = spawnSync('nsenter', ['-t', String(this.nsPid), '-n', '--', 'curl', '-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', url], { encoding: 'utf8' });
    const cut = r.stdout.lastIndexOf('\n');
    return { status: Number(r.stdout.slice(cut + 1)) || 0, body: r.stdout.slice(0, Math.max(cut, 0)), error: r.stderr.trim() || undefined };
  }

  /** The listings of written files before and after the user data (instance.sh `snapshot`). */
  public listings(): { before: Map<string, ListedFile>; after: Map<string, ListedFile> } {
    return { before: parseListing(this.shareFile('before.txt') ?? ''), after: parseListing(this.shareFile('after.txt') ?? '') };
  }

  /** Ends the instance: its processes, mounts and network go away with its namespaces. */
  public async stop(keepWork = process.env.REHEARSAL_KEEP_WORK === '1'): Promise<void> {
    if (this.stopped) return;
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    this.stopSync(keepWork);
    await exited;
  }

  public stopSync(keepWork = process.env.REHEARSAL_KEEP_WORK === '1'): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    try {
      this.child.kill('SIGKILL');
    } catch {
      // already gone
    }
    if (!keepWork) {
      // The overlay is mounted only in the instance's mount namespace: once it is gone, this is plain files.
      for (let i = 0; i < 50; i++) {
        try {
          fs.rmSync(this.work, { recursive: true, force: true });
          break;
        } catch {
          spawnSync('sleep', ['0.1']);
        }
      }
    }
  }
}

function parseListing(text: string): Map<string, ListedFile> {
  const files = new Map<string, ListedFile>();
  const hashes = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    if (f[1] === 'hash') {
      hashes.set(f[2], f[0]);
      continue;
    }
    const [layer, p, type, mode, owner, size, link] = f;
    files.set(p, { layer: layer as ListedFile['layer'], path: p, type, mode, owner, size: Number(size), link });
  }
  for (const [p, h] of hashes) {
    const f = files.get(p);
    if (f) f.hash = h;
  }
  return files;
}
