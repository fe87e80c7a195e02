/**
 * The example apps (examples/<env>.ts) as the scripts and tests see them: their names and presets
 * (from `EXAMPLES` in examples/common.ts, which defines each example once), the update the
 * deployment tests make to each, and an in-process synthesis of an example file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXAMPLES as DEFINITIONS, type ExampleName } from '../../examples/common';
import { Preset } from '../../src';

export type { ExampleName };

/** Every example, in the order dev, staging, prod. */
export const EXAMPLES = Object.keys(DEFINITIONS) as ExampleName[];

/** A new instance of an example's preset. */
export function presetOf(example: ExampleName): Preset {
  return DEFINITIONS[example].preset();
}

/** What the update step of the deployment tests changes: instance types, capacities and the `project` tag. */
export interface UpdateVariant {
  readonly webInstanceType: string;
  readonly appInstanceType: string;
  readonly webMinCapacity: number;
  readonly webMaxCapacity: number;
  readonly appMinCapacity: number;
  readonly appMaxCapacity: number;
  /**
   * A tag set on both Auto Scaling Groups (and so their instances), overriding the platform's.
   * Only there: moto cannot update most resource types (a tag change on the VPC, the database or a
   * KMS key makes its UpdateStack fail), so a stack-wide tag change cannot be tested on it.
   */
  readonly tag: { key: string; value: string };
}

const bump = (example: ExampleName, webType: string, appType: string): UpdateVariant => {
  const v = presetOf(example).values;
  return {
    webInstanceType: webType,
    appInstanceType: appType,
    webMinCapacity: v.webMinCapacity + 1,
    webMaxCapacity: v.webMaxCapacity + 1,
    appMinCapacity: v.appMinCapacity + 1,
    appMaxCapacity: v.appMaxCapacity + 1,
    tag: { key: 'project', value: 'cdk-three-tier-example-updated' },
  };
};

export const UPDATE_VARIANTS: Record<ExampleName, UpdateVariant> = {
  dev: bump('dev', 't3.small', 't3.small'),
  staging: bump('staging', 't3.medium', 't3.medium'),
  prod: bump('prod', 'm7i.xlarge', 'm7i.xlarge'),
};

/**
 * The extra deployment of the tests: the prod example with a domain (so HTTPS, with a certificate)
 * in a hosted zone the test creates in the emulator, and CloudFront in front of it (issue 11).
 */
export const EDGE_VARIANT = {
  example: 'prod' as ExampleName,
  zoneName: 'example.test',
  domainName: 'www.example.test',
  /** Stands for `com.amazonaws.global.cloudfront.origin-facing` (moto has no managed prefix lists). */
  originPrefixListId: 'pl-3b927c52',
};

/**
 * Synthesizes `examples/<name>.ts` in this process, the way `cdk synth` runs it but offline: the
 * example's own `app.synth()` writes into a temporary directory (`CDK_OUTDIR`), without an account
 * from the environment (so with the examples' placeholder account and us-east-1 AZs), and the
 * template is returned. `load` requires the module (under jest:
 * `(p) => jest.isolateModules(() => require(p))`).
 */
export function synthesizeExample(name: ExampleName, load: (modulePath: string) => void): any {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`));
  const saved = { ...process.env };
  process.env.CDK_OUTDIR = outdir;
  delete process.env.CDK_DEFAULT_ACCOUNT;
  delete process.env.CDK_DEFAULT_REGION;
  delete process.env.CDK_CONTEXT_JSON;
  try {
    load(path.join(__dirname, '..', '..', 'examples', name));
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    const stack = Object.values<any>(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
    return JSON.parse(fs.readFileSync(path.join(outdir, stack.properties.templateFile), 'utf8'));
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
