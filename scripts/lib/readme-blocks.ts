/**
 * The generated blocks of README.md: for each block below, the text between
 * `<!-- <name>:start -->` and `<!-- <name>:end -->` is what its render function returns.
 * scripts/update-readme.ts rewrites them; test/readme.test.ts fails when one differs.
 *
 * To add a generated block: add its markers to README.md and an entry to README_BLOCKS.
 */
import * as path from 'path';
import { renderAcknowledgements, renderComplianceTable } from './compliance';
import { renderExampleCostTable } from './cost/examples';
import { renderDefaultsTable, renderEgressCosts, renderProdNaclRules } from './readme-tables';
import { intendedGraph, renderGraph } from './sg-graph';

/** A generated README block: the marker name and the function rendering its content. */
export interface ReadmeBlock {
  readonly name: string;
  readonly render: () => string;
}

/** Every generated block of the README. */
export const README_BLOCKS: ReadmeBlock[] = [
  { name: 'defaults-table', render: renderDefaultsTable },
  { name: 'compliance-counts', render: renderComplianceTable },
  { name: 'acknowledgements', render: renderAcknowledgements },
  // The intended graph of the prod preset with a domain; test/sg-graph.test.ts proves the
  // synthesized template has exactly these edges.
  { name: 'sg-graph', render: () => renderGraph(intendedGraph({ https: true, internalTls: true, endpoints: true, natInstance: false })) },
  // Each preset's egress and what it costs per month (us-east-1 prices in scripts/lib/readme-tables.ts).
  { name: 'egress-costs', render: renderEgressCosts },
  // The network ACL rules of the prod preset with a domain; test/nacl.test.ts proves the template
  // has exactly these entries and that they permit every security-group edge and nothing more.
  { name: 'nacl-rules', render: renderProdNaclRules },
  // The monthly cost of each example per resource type (scripts/lib/cost, prices.json); test/cost.test.ts
  // fails when a resource type of an example has no price.
  { name: 'cost-table', render: renderExampleCostTable },
];

export const README_PATH = path.join(__dirname, '..', '..', 'README.md');
export const UPDATE_COMMAND = 'npx ts-node --transpile-only scripts/update-readme.ts';

/** The start and end markers of a block. */
export function markers(name: string): { start: string; end: string } {
  return { start: `<!-- ${name}:start -->`, end: `<!-- ${name}:end -->` };
}

function locate(readme: string, name: string): { from: number; to: number } | undefined {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  if (from < 0) return undefined;
  if (readme.indexOf(start, from + 1) >= 0) throw new Error(`README.md has the marker ${start} more than once`);
  const to = readme.indexOf(end, from);
  if (to < 0) throw new Error(`README.md has ${start} but no ${end} after it`);
  return { from: from + start.length, to };
}

/** The current content of a block (without the markers and the newlines next to them), if the README has it. */
export function readBlock(readme: string, name: string): string | undefined {
  const at = locate(readme, name);
  return at ? readme.slice(at.from, at.to).replace(/^\n/, '').replace(/\n$/, '') : undefined;
}

/** The README with a block's content replaced; throws when the markers are missing. */
export function replaceBlock(readme: string, name: string, content: string): string {
  const at = locate(readme, name);
  if (!at) {
    const { start, end } = markers(name);
    throw new Error(`README.md has no block '${name}': add the lines\n${start}\n${end}\nwhere it belongs, then run ${UPDATE_COMMAND}`);
  }
  return `${readme.slice(0, at.from)}\n${content}\n${readme.slice(at.to)}`;
}

/** The README with every block rendered. */
export function renderReadme(readme: string, blocks: ReadmeBlock[] = README_BLOCKS): string {
  return blocks.reduce((text, block) => replaceBlock(text, block.name, block.render()), readme);
}
