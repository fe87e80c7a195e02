/**
 * The example apps' templates and estimates, synthesized in this process (about a second each,
 * offline), for `npx projen cost` and the README's cost table.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildExample } from '../../../examples/common';
import { EXAMPLES, ExampleName } from '../examples';
import { Estimate, estimate, renderCostTable } from './estimate';
import { loadPrices, usageOf } from './price-table';
import { CfnTemplate } from './template';

/** The template of `examples/<name>.ts`, synthesized without an account from the environment (placeholder account, us-east-1). */
export function exampleTemplate(name: ExampleName): CfnTemplate {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `cost-${name}-`));
  const saved = { ...process.env };
  delete process.env.CDK_DEFAULT_ACCOUNT;
  delete process.env.CDK_DEFAULT_REGION;
  try {
    const app = new App({ outdir });
    const { stack } = buildExample(app, name);
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    Object.assign(process.env, saved);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The estimate of each example (dev, staging, prod), with its preset's usage assumptions. */
export function exampleEstimates(names: ExampleName[] = EXAMPLES): Estimate[] {
  const table = loadPrices();
  return names.map((name) => estimate(name, exampleTemplate(name), usageOf(table, name), table));
}

/** The README's cost table block. */
export function renderExampleCostTable(): string {
  return renderCostTable(exampleEstimates());
}
