import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';

/**
 * The rehearsal's "VPC": a network namespace of its own with the instance metadata service, the
 * AWS endpoint (bridged to the emulator) and the load balancers (standins/vpc.js). Instances are
 * linked to it one by one (instance.ts); each gets a /30 of link-local addresses, so nothing here
 * ever uses an address outside this machine's own namespaces.
 */

/** Where the AWS endpoint answers inside the VPC (what the instances' `aws` and cfn-signal call). */
export const AWS_ENDPOINT_ADDRESS = '169.254.199.1';
export const AWS_ENDPOINT_PORT = 4566;

/** A load balancer in the VPC: its address and listener port, and the instance address and port it forwards to. */
export interface VpcLoadBalancer {
  readonly address: string;
  readonly port: number;
  readonly target: { readonly host: string; readonly port: number };
}

/** An instance's identity as the metadata service answers it. */
export interface MetadataIdentity {
  readonly instanceId: string;
  readonly roleName: string;
  readonly availabilityZone: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly launchTime: string;
}

export interface NetworkOptions {
  /** The emulator on this machine, e.g. `http://127.0.0.1:5000`. */
  readonly awsEndpoint: string;
  readonly region: string;
  readonly accountId: string;
  readonly loadBalancers?: VpcLoadBalancer[];
}

const VPC_JS = path.join(__dirname, 'standins', 'vpc.js');

export class RehearsalNetwork {
  /** Creates the VPC namespace and starts its services. */
  public static async start(options: NetworkOptions): Promise<RehearsalNetwork> {
    const dir = fs.mkdtempSync('/dev/shm/boot-rehearsal-vpc-');
    const socket = path.join(dir, 'aws.sock');
    const endpoint = new URL(options.awsEndpoint);
    const bridge = net.createServer((client) => {
      const upstream = net.connect(Number(endpoint.port), endpoint.hostname);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve, reject) => bridge.once('error', reject).listen(socket, resolve));
    const config = path.join(dir, 'vpc.json');
    const network = new RehearsalNetwork(dir, config, bridge, options);
    network.writeConfig();
    const child = spawn('unshare', ['--net', '--fork', '--kill-child', '--', process.execPath, VPC_JS, config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    network.child = child;
    const deadline = Date.now() + 15_000;
    while (!fs.existsSync(path.join(dir, 'vpc.ready'))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        network.stop();
        throw new Error(`the rehearsal VPC did not start: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    network.pid = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return network;
  }

  /** The address the k-th `allocate` gives (from 0) (for a load balancer configured before its target boots). */
  public static instanceAddress(k: number): string {
    return `169.254.10.${4 * k + 2}`;
  }

  private child?: ChildProcess;
  private pid = 0;
  private readonly instances: Record<string, MetadataIdentity> = {};
  private next = 0;

  private constructor(
    public readonly dir: string,
    private readonly configFile: string,
    private readonly bridge: net.Server,
    private readonly options: NetworkOptions,
  ) {}

  /** The VPC namespace, for `ip ... netns` and `nsenter --net=`. */
  public get netns(): string {
    return `/proc/${this.pid}/ns/net`;
  }

  /** The metadata service's log (one line per request). */
  public get imdsLog(): string {
    const p = path.join(this.dir, 'imds.log');
    return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  }

  /** The next instance's addresses (a /30: gateway in the VPC, instance address), registered with the metadata service. */
  public allocate(identity: MetadataIdentity): { address: string; gateway: string; vpcInterface: string } {
    const k = this.next++;
    if (k >= 60) throw new Error('the rehearsal VPC has addresses for 60 instances');
    const gateway = `169.254.10.${4 * k + 1}`;
    const address = `169.254.10.${4 * k + 2}`;
    this.instances[address] = identity;
    this.writeConfig();
    return { address, gateway, vpcInterface: `vpc${k}` };
  }

  public get region(): string {
    return this.options.region;
  }

  public stop(): void {
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // gone
    }
    this.bridge.close();
    if (process.env.REHEARSAL_KEEP_WORK !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private writeConfig(): void {
    const tmp = `${this.configFile}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({
      region: this.options.region,
      accountId: this.options.accountId,
      awsAddress: AWS_ENDPOINT_ADDRESS,
      awsPort: AWS_ENDPOINT_PORT,
      awsSocket: path.join(this.dir, 'aws.sock'),
      loadBalancers: this.options.loadBalancers ?? [],
      instances: this.instances,
    }, null, 2));
    fs.renameSync(tmp, this.configFile);
  }
}
