import * as fs from 'fs';
import * as path from 'path';
import { ROOT, synth } from './assembly';
import { ExampleName } from './examples';

/** The newest modification time under a path (files only). */
function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/**
 * Whether `cdk.out/examples/<env>` (from `npx projen examples:synth`) can be reused: synthesized
 * after every change to src/, examples/ and the installed aws-cdk-lib, and offline (placeholder
 * account), like the synthesis here.
 */
export function freshExampleOutput(example: ExampleName): string | undefined {
  const dir = path.join(ROOT, 'cdk.out', 'examples', example);
  const manifest = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifest)) return undefined;
  const built = fs.statSync(manifest).mtimeMs;
  const inputs = ['src', 'examples', 'package.json', path.join('node_modules', 'aws-cdk-lib', 'package.json')];
  if (inputs.some((i) => newestMtime(path.join(ROOT, i)) > built)) return undefined;
  const m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  const offline = Object.values<any>(m.artifacts ?? {}).every((a) => a.type !== 'aws:cloudformation:stack' || a.environment === 'aws://123456789012/us-east-1');
  return offline ? dir : undefined;
}

/** Synthesizes an example (`examples/<env>.ts`) unless a fresh `cdk.out/examples/<env>` exists. */
export async function synthExample(example: ExampleName, outdir: string): Promise<{ dir: string; reused: boolean }> {
  const fresh = freshExampleOutput(example);
  if (fresh) return { dir: fresh, reused: true };
  await synthWithRetry({ app: `examples/${example}.ts`, outdir });
  return { dir: outdir, reused: false };
}

/** Synthesizes the update variant of an example (scripts/lib/example-app.ts with `variant=update`). */
export async function synthUpdateVariant(example: ExampleName, outdir: string): Promise<string> {
  await synthWithRetry({ app: 'scripts/lib/example-app.ts', outdir, context: { example, variant: 'update' } });
  return outdir;
}

async function synthWithRetry(opts: Parameters<typeof synth>[0]): Promise<void> {
  try {
    await synth(opts);
  } catch (e) {
    // Concurrent CDK CLI runs now and then trip over each other's staging directories: once more.
    if (!/ENOENT/.test((e as Error).message)) throw e;
    fs.rmSync(opts.outdir, { recursive: true, force: true });
    await synth(opts);
  }
}

/** Runs async jobs with at most `limit` at a time, keeping their order in the results. */
export async function limitConcurrency<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
