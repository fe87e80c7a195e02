import {
  CloudFormationClient, CreateStackCommand, DeleteStackCommand, DescribeStackEventsCommand,
  DescribeStacksCommand, Output, paginateListStackResources, StackResourceSummary, UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Progress } from './progress';
import { sleep } from './tools';

/** The largest template CloudFormation accepts inline (TemplateBody). */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

/** Where templates too large for TemplateBody are put. */
export interface TemplateStore {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Creates the bucket when missing (emulator). */
  readonly createBucket: boolean;
  /** The URL CloudFormation reads the template from, for a key. */
  url(key: string): string;
}

/**
 * The template as JSON text with the characters YAML cannot hold written as `\uXXXX` escapes (the
 * same JSON value): moto reads templates with a YAML parser, which refuses a raw DEL or C1 control
 * character in a string ("unacceptable character #x007f"), and JSON.stringify leaves them raw.
 * (Added for the boot rehearsal, whose hostile environment values hold them.)
 */
export function templateBody(template: any): string {
  return JSON.stringify(template).replace(/[\x7f-\x84\x86-\x9f\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The template as CreateStack/UpdateStack take it: inline, or by URL when too large. */
async function templateSource(stackName: string, template: any, store: TemplateStore): Promise<{ TemplateBody?: string; TemplateURL?: string }> {
  const body = templateBody(template);
  if (Buffer.byteLength(body) <= MAX_TEMPLATE_BODY_BYTES) return { TemplateBody: body };
  if (store.createBucket) {
    try {
      await store.s3.send(new HeadBucketCommand({ Bucket: store.bucket }));
    } catch {
      await store.s3.send(new CreateBucketCommand({ Bucket: store.bucket }));
    }
  }
  const key = `templates/${stackName}-${Date.now()}.json`;
  await store.s3.send(new PutObjectCommand({ Bucket: store.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  return { TemplateURL: store.url(key) };
}

const CAPABILITIES: ('CAPABILITY_IAM' | 'CAPABILITY_NAMED_IAM' | 'CAPABILITY_AUTO_EXPAND')[] = ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'];

export interface StackResult {
  readonly stackId: string;
  readonly status: string;
  readonly outputs: Record<string, string>;
  readonly ms: number;
}

export interface DeployOptions {
  readonly cfn: CloudFormationClient;
  readonly stackName: string;
  readonly template: any;
  readonly store: TemplateStore;
  readonly parameters?: Record<string, string>;
  readonly tags?: Record<string, string>;
  /** Seconds between polls. @default 1 */
  readonly pollSeconds?: number;
  /** Give up after this many seconds. @default 3600 */
  readonly timeoutSeconds?: number;
}

export async function createStack(opts: DeployOptions): Promise<StackResult> {
  const source = await templateSource(opts.stackName, opts.template, opts.store);
  const progress = new Progress(`create ${opts.stackName}`);
  const total = Object.keys(opts.template.Resources ?? {}).length;
  progress.update(0, total, 'CREATE_IN_PROGRESS');
  const request = opts.cfn.send(new CreateStackCommand({
    StackName: opts.stackName,
    ...source,
    Capabilities: CAPABILITIES,
    Parameters: toParameters(opts.parameters),
    Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    OnFailure: 'DO_NOTHING',
  }));
  // The emulator answers CreateStack only when it has created everything: keep the display alive.
  const stackId = await withTicks(request, progress, total, 'CREATE_IN_PROGRESS').then((r) => r.StackId!);
  return waitForStack(opts, stackId, 'CREATE', progress, total);
}

export async function updateStack(opts: DeployOptions): Promise<StackResult> {
  const source = await templateSource(opts.stackName, opts.template, opts.store);
  const progress = new Progress(`update ${opts.stackName}`);
  const total = Object.keys(opts.template.Resources ?? {}).length;
  progress.update(0, total, 'UPDATE_IN_PROGRESS');
  const request = opts.cfn.send(new UpdateStackCommand({
    StackName: opts.stackName,
    ...source,
    Capabilities: CAPABILITIES,
    Parameters: toParameters(opts.parameters),
    Tags: Object.entries(opts.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  }));
  const stackId = await withTicks(request, progress, total, 'UPDATE_IN_PROGRESS').then((r) => r.StackId!);
  return waitForStack(opts, stackId, 'UPDATE', progress, total);
}

export interface DeleteOptions {
  readonly cfn: CloudFormationClient;
  readonly stackName: string;
  readonly pollSeconds?: number;
  readonly timeoutSeconds?: number;
}

export async function deleteStack(opts: DeleteOptions): Promise<StackResult> {
  const progress = new Progress(`delete ${opts.stackName}`);
  let stackId: string;
  try {
    const d = await opts.cfn.send(new DescribeStacksCommand({ StackName: opts.stackName }));
    stackId = d.Stacks![0].StackId!;
  } catch (e) {
    if (/does not exist/.test(String((e as Error).message))) {
      return { stackId: '', status: 'DELETE_COMPLETE', outputs: {}, ms: 0 };
    }
    throw e;
  }
  const total = (await listResources(opts.cfn, stackId)).length;
  const request = opts.cfn.send(new DeleteStackCommand({ StackName: stackId }));
  await withTicks(request, progress, total, 'DELETE_IN_PROGRESS');
  return waitForStack({ ...opts, template: {}, store: undefined as any }, stackId, 'DELETE', progress, total);
}

function toParameters(p?: Record<string, string>) {
  return Object.entries(p ?? {}).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

async function withTicks<T>(request: Promise<T>, progress: Progress, total: number, status: string): Promise<T> {
  let settled = false;
  const tick = (async () => {
    while (!settled) {
      progress.update(0, total, status);
      await sleep(1000);
    }
  })();
  try {
    return await request;
  } finally {
    settled = true;
    await tick;
  }
}

async function listResources(cfn: CloudFormationClient, stackId: string): Promise<StackResourceSummary[]> {
  const out: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackId })) out.push(...(page.StackResourceSummaries ?? []));
  return out;
}

/** Waits for a stack operation to end, updating the display; throws with the failed resources' reasons. */
async function waitForStack(opts: DeployOptions, stackId: string, op: 'CREATE' | 'UPDATE' | 'DELETE', progress: Progress, total: number): Promise<StackResult> {
  const deadline = Date.now() + (opts.timeoutSeconds ?? 3600) * 1000;
  for (;;) {
    const d = await opts.cfn.send(new DescribeStacksCommand({ StackName: stackId }));
    const stack = d.Stacks![0];
    const status = stack.StackStatus!;
    let done = 0;
    if (op === 'DELETE') {
      const remaining = status === 'DELETE_COMPLETE' ? [] : (await listResources(opts.cfn, stackId).catch(() => []))
        .filter((r) => r.ResourceStatus !== 'DELETE_COMPLETE');
      done = total - remaining.length;
    } else {
      const resources = await listResources(opts.cfn, stackId).catch(() => []);
      done = resources.filter((r) => /_COMPLETE$/.test(r.ResourceStatus ?? '') && !/DELETE/.test(r.ResourceStatus ?? '')).length;
      if (status.endsWith('_COMPLETE') && !status.includes('ROLLBACK')) done = Math.max(done, resources.length);
    }
    progress.update(Math.min(done, total), total, status);
    if (!status.endsWith('_IN_PROGRESS')) {
      const ok = status === `${op}_COMPLETE`;
      if (!ok) {
        progress.finish(`${status}`);
        throw new Error(`${opts.stackName}: ${status}${stack.StackStatusReason ? ` (${stack.StackStatusReason})` : ''}${await failureReasons(opts.cfn, stackId)}`);
      }
      progress.finish(status);
      return { stackId, status, outputs: outputsOf(stack.Outputs), ms: progress.elapsedMs };
    }
    if (Date.now() > deadline) {
      progress.finish(`still ${status}, gave up`);
      throw new Error(`${opts.stackName}: still ${status} after ${opts.timeoutSeconds ?? 3600} s`);
    }
    await sleep((opts.pollSeconds ?? 1) * 1000);
  }
}

function outputsOf(outputs: Output[] | undefined): Record<string, string> {
  return Object.fromEntries((outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue ?? '']));
}

async function failureReasons(cfn: CloudFormationClient, stackId: string): Promise<string> {
  try {
    const events = await cfn.send(new DescribeStackEventsCommand({ StackName: stackId }));
    const failed = (events.StackEvents ?? []).filter((e) => /FAILED/.test(e.ResourceStatus ?? '') && e.ResourceStatusReason);
    return failed.slice(0, 10).map((e) => `\n  ${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason}`).join('');
  } catch {
    return '';
  }
}

/** The stack's resources: logical ID → physical ID and type. */
export type StackResources = Map<string, { physicalId: string; type: string; status: string }>;

export async function stackResources(cfn: CloudFormationClient, stackName: string): Promise<StackResources> {
  const list = await listResources(cfn, stackName);
  return new Map(list.map((r) => [r.LogicalResourceId!, { physicalId: r.PhysicalResourceId ?? '', type: r.ResourceType!, status: r.ResourceStatus! }]));
}
