import { execFile } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { AssetManifest, AssetPublishing, DestinationPattern, IAws } from '@aws-cdk/cdk-assets-lib';
import {
  CreateBucketCommand, GetBucketEncryptionCommand, GetBucketLocationCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { offlineEnv } from './aws';
import { UserError } from './tools';

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
  try {
    await promisify(execFile)('npx', args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    throw new UserError(`cdk synth of ${opts.app} failed (exit ${err.code}):\n${`${err.stdout ?? ''}${err.stderr ?? ''}`.trim()}`);
  }
}


/** Reads the one stack of a cloud assembly directory (or the one named). */
export function readStack(outdir: string, stackName?: string): SynthesizedStack {
  const stacks = new cxapi.CloudAssembly(outdir).stacksRecursively.filter((s) => !stackName || s.stackName === stackName);
  if (stacks.length !== 1) {
    throw new Error(`expected one stack${stackName ? ` named ${stackName}` : ''} in ${outdir}, found ${stacks.length}`);
  }
  const stack = stacks[0];
  const assets = stack.dependencies.find((d): d is cxapi.AssetManifestArtifact => d instanceof cxapi.AssetManifestArtifact);
  return { stackName: stack.stackName, outdir, templateFile: stack.templateFullPath, template: stack.template, assetsFile: assets?.file };
}

/** One file asset to publish: a destination of an entry of the stack's asset manifest. */
export interface FileAsset {
  readonly displayName: string;
  readonly sourcePath: string;
  readonly packaging: 'zip' | 'file';
  readonly bucketName: string;
  readonly objectKey: string;
  /** The asset manifest it comes from, its entry there, and the environment it is published to. */
  readonly assetsFile: string;
  readonly pattern: DestinationPattern;
  readonly env: { readonly account: string; readonly region: string; readonly partition: string };
}

/** `${AWS::AccountId}` and the like in an asset destination, for one environment. */
function placeholders(account: string, region: string, partition: string): (s: string) => string {
  return (s) => s.replace(/\$\{AWS::AccountId\}/g, account).replace(/\$\{AWS::Region\}/g, region).replace(/\$\{AWS::Partition\}/g, partition);
}

/** The stack's file assets, the template itself included. */
function allFileAssets(stack: SynthesizedStack, account: string, region: string, partition: string): FileAsset[] {
  if (!stack.assetsFile) return [];
  const sub = placeholders(account, region, partition);
  const manifest = AssetManifest.fromFile(stack.assetsFile);
  return manifest.files.map((e) => ({
    displayName: e.displayName(false),
    sourcePath: path.join(manifest.directory, e.source.path ?? ''),
    packaging: e.source.packaging === 'zip' ? 'zip' as const : 'file' as const,
    bucketName: sub(e.destination.bucketName),
    objectKey: sub(e.destination.objectKey),
    assetsFile: stack.assetsFile!,
    pattern: new DestinationPattern(e.id.assetId, e.id.destinationId),
    env: { account, region, partition },
  }));
}

/**
 * The file assets of a stack (not the template itself), with their destinations resolved; with
 * `template`, only those it references (a template adapted for the emulator may have dropped some).
 */
export function fileAssets(stack: SynthesizedStack, account: string, region: string, template?: any, partition = 'aws'): FileAsset[] {
  const out = allFileAssets(stack, account, region, partition).filter((a) => path.resolve(a.sourcePath) !== path.resolve(stack.templateFile));
  if (template === undefined) return out;
  const text = JSON.stringify(template);
  return out.filter((a) => text.includes(a.objectKey));
}

/** Where the CDK would upload the stack's template (its own asset), for templates passed by URL. */
export function templateDestination(stack: SynthesizedStack, account: string, region: string, partition = 'aws'): { bucketName: string; objectKey: string } | undefined {
  return allFileAssets(stack, account, region, partition).find((a) => path.resolve(a.sourcePath) === path.resolve(stack.templateFile));
}

/** The account and region a synthesized stack is for (`aws://ACCOUNT/REGION`). */
export function stackEnvironment(outdir: string, stackName: string): { account: string; region: string } | undefined {
  const stack = new cxapi.CloudAssembly(outdir).stacksRecursively.find((s) => s.stackName === stackName);
  return stack ? { account: stack.environment.account, region: stack.environment.region } : undefined;
}

/**
 * The AWS side of cdk-assets-lib, on the given S3 client (the emulator's, or real AWS with the
 * caller's own credentials, as before: no publishing role is assumed).
 */
function assetsAws(s3: S3Client, account: string, region: string, partition: string): IAws {
  const own = async () => ({ accountId: account, partition });
  return {
    discoverPartition: async () => partition,
    discoverDefaultRegion: async () => region,
    discoverCurrentAccount: own,
    discoverTargetAccount: own,
    s3Client: async () => ({
      getBucketEncryption: (i) => s3.send(new GetBucketEncryptionCommand(i)),
      getBucketLocation: (i) => s3.send(new GetBucketLocationCommand(i)),
      listObjectsV2: (i) => s3.send(new ListObjectsV2Command(i)),
      upload: async (i) => ({ ...(await s3.send(new PutObjectCommand(i))), Bucket: i.Bucket, Key: i.Key }),
    }),
    ecrClient: async () => { throw new UserError('container image assets are not supported here'); },
    secretsManagerClient: async () => { throw new UserError('container image assets are not supported here'); },
  };
}

/**
 * Uploads file assets (zipping directories) with cdk-assets-lib to the buckets and keys the template
 * references; objects already there are skipped. In the emulator missing buckets are created; in
 * real AWS they must exist (`cdk bootstrap`). Returns how many were uploaded.
 */
export async function publishAssets(s3: S3Client, assets: FileAsset[], createBuckets: boolean): Promise<number> {
  for (const bucket of new Set(assets.map((a) => a.bucketName))) {
    try {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    } catch (e) {
      if (!createBuckets) {
        throw new UserError(`asset bucket ${bucket} is not reachable (${(e as Error).name}): bootstrap the account with \`npx cdk bootstrap\``);
      }
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    }
  }
  let uploaded = 0;
  for (const file of new Set(assets.map((a) => a.assetsFile))) {
    const selected = assets.filter((a) => a.assetsFile === file);
    const { account, region, partition } = selected[0].env;
    const publishing = new AssetPublishing(AssetManifest.fromFile(file).select(selected.map((a) => a.pattern)), {
      aws: assetsAws(s3, account, region, partition),
      progressListener: { onPublishEvent: (type) => void (type === 'upload' && uploaded++) },
    });
    await publishing.publish();
  }
  return uploaded;
}
