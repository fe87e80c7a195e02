import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PutObjectCommand, HeadObjectCommand, CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { offlineEnv } from './aws';
import { UserError } from './tools';
import { zipDirectory } from './zip';

/** The project's root directory. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** A synthesized stack: its template and where its assets are. */
export interface SynthesizedStack {
  readonly stackName: string;
  readonly outdir: string;
  readonly templateFile: string;
  readonly template: any;
  readonly assetsFile?: string;
}

export interface SynthOptions {
  /** The CDK app, relative to the project root, e.g. `examples/dev.ts`. */
  readonly app: string;
  readonly outdir: string;
  /** Offline (placeholder account, fixed AZs, no credentials) unless `false`. */
  readonly offline?: boolean;
  /** Extra environment for the app. */
  readonly env?: Record<string, string>;
  /** Extra context (`-c key=value`). */
  readonly context?: Record<string, string>;
}

/**
 * Synthesizes a CDK app with the CDK CLI (`cdk synth --app "npx ts-node --transpile-only APP" -o OUTDIR`).
 * Offline by default: no AWS credentials are visible, so the examples use their placeholder
 * account and us-east-1 AZs, and context lookups are refused.
 */
export async function synth(opts: SynthOptions): Promise<void> {
  const offline = opts.offline ?? true;
  const args = [
    'cdk', 'synth', '--quiet',
    '--app', `npx ts-node --transpile-only ${opts.app}`,
    '--output', opts.outdir,
    ...(offline ? ['--lookups', 'false'] : []),
    ...Object.entries(opts.context ?? {}).flatMap(([k, v]) => ['--context', `${k}=${v}`]),
  ];
  const env = offline ? offlineEnv(opts.env) : { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1', ...opts.env };
  const { code, output } = await run('npx', args, env);
  if (code !== 0) {
    throw new UserError(`cdk synth of ${opts.app} failed (exit ${code}):\n${output.trim()}`);
  }
}

/** Runs a command in the project root, collecting its output. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Reads the one stack of a cloud assembly directory (or the one named). */
export function readStack(outdir: string, stackName?: string): SynthesizedStack {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const stacks = Object.entries<any>(manifest.artifacts ?? {})
    .filter(([name, a]) => a.type === 'aws:cloudformation:stack' && (!stackName || name === stackName));
  if (stacks.length !== 1) {
    throw new Error(`expected one stack${stackName ? ` named ${stackName}` : ''} in ${outdir}, found ${stacks.length}`);
  }
  const [name, artifact] = stacks[0];
  const templateFile = path.join(outdir, artifact.properties.templateFile);
  const assetsArtifact = (artifact.dependencies ?? []).map((d: string) => manifest.artifacts[d])
    .find((a: any) => a?.type === 'cdk:asset-manifest');
  return {
    stackName: artifact.properties.stackName ?? name,
    outdir,
    templateFile,
    template: JSON.parse(fs.readFileSync(templateFile, 'utf8')),
    assetsFile: assetsArtifact ? path.join(outdir, assetsArtifact.properties.file) : undefined,
  };
}

/** One file asset to publish. */
export interface FileAsset {
  readonly displayName: string;
  readonly sourcePath: string;
  readonly packaging: 'zip' | 'file';
  readonly bucketName: string;
  readonly objectKey: string;
}

/**
 * The file assets of a stack (not the template itself), with their destinations resolved; with
 * `template`, only those it references (a template adapted for the emulator may have dropped some).
 */
export function fileAssets(stack: SynthesizedStack, account: string, region: string, template?: any, partition = 'aws'): FileAsset[] {
  if (!stack.assetsFile) return [];
  const manifest = JSON.parse(fs.readFileSync(stack.assetsFile, 'utf8'));
  const sub = (s: string) => s
    .replace(/\$\{AWS::AccountId\}/g, account)
    .replace(/\$\{AWS::Region\}/g, region)
    .replace(/\$\{AWS::Partition\}/g, partition);
  const out: FileAsset[] = [];
  for (const asset of Object.values<any>(manifest.files ?? {})) {
    const sourcePath = path.join(stack.outdir, asset.source.path);
    if (path.resolve(sourcePath) === path.resolve(stack.templateFile)) continue;
    for (const dest of Object.values<any>(asset.destinations)) {
      out.push({
        displayName: asset.displayName ?? asset.source.path,
        sourcePath,
        packaging: asset.source.packaging ?? 'file',
        bucketName: sub(dest.bucketName),
        objectKey: sub(dest.objectKey),
      });
    }
  }
  if (template === undefined) return out;
  const text = JSON.stringify(template);
  return out.filter((a) => text.includes(a.objectKey));
}

/** Where the CDK would upload the stack's template (its own asset), for templates passed by URL. */
export function templateDestination(stack: SynthesizedStack, account: string, region: string, partition = 'aws'): { bucketName: string; objectKey: string } | undefined {
  if (!stack.assetsFile) return undefined;
  const manifest = JSON.parse(fs.readFileSync(stack.assetsFile, 'utf8'));
  for (const asset of Object.values<any>(manifest.files ?? {})) {
    if (path.resolve(path.join(stack.outdir, asset.source.path)) !== path.resolve(stack.templateFile)) continue;
    const dest: any = Object.values(asset.destinations)[0];
    const sub = (x: string) => x.replace(/\$\{AWS::AccountId\}/g, account).replace(/\$\{AWS::Region\}/g, region).replace(/\$\{AWS::Partition\}/g, partition);
    return { bucketName: sub(dest.bucketName), objectKey: sub(dest.objectKey) };
  }
  return undefined;
}

/** The account and region a synthesized stack is for (`aws://ACCOUNT/REGION`). */
export function stackEnvironment(outdir: string, stackName: string): { account: string; region: string } | undefined {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const env: string | undefined = manifest.artifacts?.[stackName]?.environment;
  const m = env ? /^aws:\/\/([^/]+)\/(.+)$/.exec(env) : null;
  return m ? { account: m[1], region: m[2] } : undefined;
}

/**
 * Uploads file assets to the buckets and keys the template references. In the emulator missing
 * buckets are created; in real AWS they must exist (`cdk bootstrap`), and objects already there
 * (same content hash in the key) are skipped.
 */
export async function publishAssets(s3: S3Client, assets: FileAsset[], createBuckets: boolean): Promise<number> {
  const buckets = new Set<string>();
  let uploaded = 0;
  for (const a of assets) {
    if (!buckets.has(a.bucketName)) {
      buckets.add(a.bucketName);
      try {
        await s3.send(new HeadBucketCommand({ Bucket: a.bucketName }));
      } catch (e) {
        if (!createBuckets) {
          throw new UserError(`asset bucket ${a.bucketName} is not reachable (${(e as Error).name}): bootstrap the account with \`npx cdk bootstrap\``);
        }
        await s3.send(new CreateBucketCommand({ Bucket: a.bucketName }));
      }
    }
    try {
      await s3.send(new HeadObjectCommand({ Bucket: a.bucketName, Key: a.objectKey }));
      continue;
    } catch {
      // not there yet
    }
    const body = a.packaging === 'zip' && fs.statSync(a.sourcePath).isDirectory()
      ? zipDirectory(a.sourcePath)
      : fs.readFileSync(a.sourcePath);
    await s3.send(new PutObjectCommand({ Bucket: a.bucketName, Key: a.objectKey, Body: body }));
    uploaded++;
  }
  return uploaded;
}
