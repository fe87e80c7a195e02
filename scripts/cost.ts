/**
 * `npx projen cost`: synthesizes the examples (dev, staging, prod), reads their templates and prints
 * each one's monthly estimate: per resource type, every billable item with its quantity, unit
 * price, monthly cost and assumption, from the committed price table scripts/lib/cost/prices.json.
 * Exits 1 when a resource type is neither priced nor listed as free.
 *
 *   npx projen cost                  all three
 *   npx projen cost -- --example dev one of them
 */
import { parseTaskArgs } from './lib/args';
import { renderEstimate, usd } from './lib/cost/estimate';
import { exampleEstimates } from './lib/cost/examples';
import { EXAMPLES, ExampleName } from './lib/examples';
import { UserError } from './lib/tools';

const USAGE = `usage: npx projen cost [-- --example ${EXAMPLES.join('|')}]`;

function main(): number {
  const args = parseTaskArgs(process.argv.slice(2), { example: { type: 'string' } }, USAGE);
  if (args.example !== undefined && !EXAMPLES.includes(args.example as ExampleName)) {
    throw new UserError(`--example must be one of ${EXAMPLES.join(', ')} (got '${args.example}')\n${USAGE}`);
  }
  const estimates = exampleEstimates(args.example ? [args.example as ExampleName] : EXAMPLES);
  console.log(estimates.map((e) => renderEstimate(e)).join('\n\n'));
  console.log(`\nTotals: ${estimates.map((e) => `${e.name} ${usd(e.monthlyUsd)}`).join(', ')} a month`);
  const unknown = estimates.filter((e) => e.unknownTypes.length > 0);
  for (const e of unknown) console.error(`${e.name}: resource types with no price and not listed as free: ${e.unknownTypes.join(', ')}`);
  return unknown.length > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
}
