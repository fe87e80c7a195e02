import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileAssets, publishAssets, SynthesizedStack, templateDestination } from './assembly';
import { clientsFor, Clients, Target } from './aws';
import { adaptTemplateForEmulator, ensureSsmParameters, RemovedResource } from './emulator';
import { Progress } from './progress';
import { rehearsalPrerequisites } from './rehearsal/instance';
import { PlatformRehearsal, PlatformRehearsalOptions, rehearsePlatform } from './rehearsal/rehearse';
import { TemplateStore } from './stack';
import { MotoServer, requireTools, startMoto, UserError } from './tools';

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/** Where a deploy session deploys to. */
export interface SessionOptions {
  /** The script's name, for the temporary folder. */
  readonly name: string;
  /** The AWS account of the caller's credentials instead of an emulator. */
  readonly real?: boolean;
  /** At the end, leave the emulator running (teardown steps still run: they decide what to keep). */
  readonly keep?: boolean;
  /** At the end, leave the temporary folder. */
  readonly keepTmp?: boolean;
}

/** A stack made ready for CreateStack: its template (adapted for the emulator) and assets published. */
export interface PreparedStack {
  readonly template: any;
  /** What was left out for the emulator. */
  readonly removed: RemovedResource[];
  readonly assets: number;
  readonly uploaded: number;
  /** SSM parameters put into the emulator. */
  readonly ssmParameters: string[];
}

/**
 * One deployment session, shared by `demo` and `deploy:test`: a temporary folder, the target (a
 * moto_server started on a free port unless `AWS_ENDPOINT_URL` names an emulator, or real AWS),
 * its clients, and a teardown that runs once, at the end, on failure and on Ctrl-C.
 */
export class DeploySession {
  public readonly tmp: string;
  /** The emulator's endpoint given by `AWS_ENDPOINT_URL`, if any. */
  public readonly externalEndpoint?: string;
  public moto?: MotoServer;
  private readonly motoStarting?: Promise<MotoServer>;
  private readonly teardownSteps: Array<(reason: string) => Promise<void>> = [];
  private tornDown = false;
  private connected?: { target: Target; clients: Clients };

  /** Starts the emulator (in the background: synthesize meanwhile, then `connect`). */
  constructor(private readonly opts: SessionOptions) {
    this.externalEndpoint = opts.real ? undefined : process.env.AWS_ENDPOINT_URL;
    if (!opts.real && !this.externalEndpoint) {
      requireTools(['moto_server', 'cfn-lint']);
      this.motoStarting = startMoto();
      this.motoStarting.catch(() => undefined);
    }
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.name}-`));
    for (const signal of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
      process.once(signal, () => {
        Progress.interruptAll();
        console.log(`\n${signal}: stopping`);
        void this.teardown(signal).finally(() => process.exit(128 + SIGNALS[signal]));
      });
    }
  }

  public get emulator(): boolean {
    return !this.opts.real;
  }

  /** Waits for the emulator and returns the target and its clients. */
  public async connect(region: string): Promise<{ target: Target; clients: Clients }> {
    this.moto = this.motoStarting ? await this.motoStarting : undefined;
    const target: Target = { endpoint: this.moto?.endpoint ?? this.externalEndpoint, region, emulator: this.emulator };
    this.connected = { target, clients: clientsFor(target) };
    return this.connected;
  }

  public get clients(): Clients {
    if (!this.connected) throw new Error('connect() first');
    return this.connected.clients;
  }

  /** Adds a step to the teardown (run before the emulator stops, in the order added). */
  public onTeardown(step: (reason: string) => Promise<void>): void {
    this.teardownSteps.push(step);
  }

  /**
   * Runs the teardown steps, then stops the emulator (or, with `keep`, lets it outlive this process)
   * and removes the temporary folder (unless `keepTmp`); once, whatever calls it first.
   */
  public async teardown(reason: string): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const step of this.teardownSteps) await step(reason);
    if (this.opts.keep) this.moto?.detach();
    else await this.moto?.stop();
    if (this.opts.keepTmp) console.log(`Kept ${this.tmp}`);
    else fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Where templates too large to pass inline go: a bucket of the emulator, or the bootstrap bucket. */
  public templateStore(stack: SynthesizedStack, env: { account: string; region: string }, emulatorBucket: string): TemplateStore {
    const s3 = this.clients.s3;
    if (this.emulator) return { s3, bucket: emulatorBucket, createBucket: true, url: (key) => `https://s3.amazonaws.com/${emulatorBucket}/${key}` };
    const dest = templateDestination(stack, env.account, env.region);
    return { s3, bucket: dest?.bucketName ?? '', createBucket: false, url: (key) => `https://s3.${env.region}.amazonaws.com/${dest?.bucketName}/${key}` };
  }

  /**
   * Makes stacks ready to deploy: templates adapted for the emulator (with the SSM parameters they
   * read), and the file assets they reference published (`also`: further stacks' assets, e.g. an
   * update's, published now too).
   */
  public async prepare(stack: SynthesizedStack, env: { account: string; region: string }, also: SynthesizedStack[] = []): Promise<PreparedStack> {
    const c = this.clients;
    const adapt = (s: SynthesizedStack) => (this.emulator ? adaptTemplateForEmulator(s.template, env) : { template: s.template, removed: [] });
    const adapted = adapt(stack);
    const ssmParameters = this.emulator ? await ensureSsmParameters(c.ssm, c.ec2, adapted.template) : [];
    const assets = [stack, ...also].flatMap((s) => fileAssets(s, env.account, env.region, s === stack ? adapted.template : adapt(s).template));
    const uploaded = await publishAssets(c.s3, assets, this.emulator);
    return { template: adapted.template, removed: adapted.removed, assets: assets.length, uploaded, ssmParameters };
  }

  /** Rehearses both fleets' boot on this machine (scripts/lib/rehearsal); the missing prerequisites instead when it cannot. */
  public async rehearse(o: Omit<PlatformRehearsalOptions, 'clients' | 'endpoint'>): Promise<{ missing: string[]; rehearsal?: PlatformRehearsal }> {
    const missing = rehearsalPrerequisites();
    if (missing.length > 0) return { missing };
    return { missing, rehearsal: await rehearsePlatform({ ...o, clients: this.clients, endpoint: this.connected!.target.endpoint! }) };
  }
}

/** Runs a script's main function: exits with its code, or 1 with a one-line message. */
export function runScript(name: string, main: () => Promise<number>): void {
  main().then((code) => process.exit(code), (e) => {
    if (e instanceof UserError) console.error(`${name}: ${e.message}`);
    else console.error(e);
    process.exit(1);
  });
}

/** `1 AWS::X, 2 AWS::Y`: how many of each. */
export function countBy(items: string[]): string {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return [...m.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}
