/**
 * The monthly estimate of a template: every resource type classified (priced or free), the priced
 * ones turned into cost lines, and the renderings (the `npx projen cost` report and the README table).
 */
import { classify } from './classify';
import { CostLine, EstimateContext, num } from './context';
import { loadPrices, PriceTable, Usage } from './price-table';
import { CfnTemplate, TemplateView } from './template';

/** One resource type of a template and what it costs. */
export interface TypeCost {
  readonly type: string;
  readonly count: number;
  /** Why it costs nothing, for free types. */
  readonly freeReason?: string;
  readonly lines: CostLine[];
  readonly monthlyUsd: number;
}

export interface Estimate {
  readonly name: string;
  readonly types: TypeCost[];
  /** Types neither priced nor listed as free: the estimate is incomplete while there are any. */
  readonly unknownTypes: string[];
  readonly monthlyUsd: number;
  /** What spot and scheduled scaling save against on-demand at minimum capacity all month. */
  readonly savingUsd: number;
  readonly usage: Usage;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Estimates a template's monthly cost with the given usage assumptions. */
export function estimate(name: string, template: CfnTemplate, usage: Usage, table: PriceTable = loadPrices()): Estimate {
  const view = new TemplateView(template);
  const ctx = new EstimateContext(view, usage, table);
  const types: TypeCost[] = [];
  const unknownTypes: string[] = [];
  for (const [type, count] of view.typeCounts()) {
    const c = classify(type);
    if (c.kind === 'unknown') {
      unknownTypes.push(type);
    } else if (c.kind === 'free') {
      types.push({ type, count, freeReason: c.reason, lines: [], monthlyUsd: 0 });
    } else {
      const lines = c.estimator(view.ofType(type), ctx);
      types.push({ type, count, lines, monthlyUsd: sum(lines.map((l) => l.monthlyUsd)) });
    }
  }
  const lines = types.flatMap((t) => t.lines);
  return { name, types, unknownTypes, monthlyUsd: sum(lines.map((l) => l.monthlyUsd)), savingUsd: sum(lines.map((l) => l.savingUsd ?? 0)), usage };
}

/** `$1,234.56`. */
export function usd(n: number): string {
  return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A unit price as published: `$0.0104`, `$5`. */
export function unitUsd(n: number): string {
  return `$${Number(n.toFixed(6))}`;
}

const row = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;

/** The full report of one estimate: priced lines per type, free types, usage assumptions. */
export function renderEstimate(e: Estimate, table: PriceTable = loadPrices()): string {
  const out = [`## ${e.name}: ${usd(e.monthlyUsd)} a month`, ''];
  out.push(row(['Resource type', 'Count', 'Item', 'Quantity', 'Unit price', 'Per month', 'Assumption']), row(Array(7).fill('---')));
  for (const t of e.types.filter((x) => !x.freeReason)) {
    t.lines.forEach((l, i) => out.push(row([i === 0 ? t.type : '', i === 0 ? t.count : '', l.item, `${num(l.quantity)}${/^\d/.test(l.unit) ? ' x' : ''} ${l.unit}`, unitUsd(l.unitUsd), usd(l.monthlyUsd),
      l.savingUsd ? `${l.assumption} (saves ${usd(l.savingUsd)} against on-demand at MinSize all month)` : l.assumption])));
  }
  out.push(row(['**Total**', '', '', '', '', `**${usd(e.monthlyUsd)}**`, e.savingUsd > 0 ? `cost controls save ${usd(e.savingUsd)}` : '']), '');
  out.push('Free or priced elsewhere:', ...e.types.filter((t) => t.freeReason).map((t) => `- ${t.type} (${t.count}): ${t.freeReason}`), '');
  out.push('Usage assumptions (scripts/lib/cost/prices.json):', ...Object.entries(e.usage).map(([k, u]) => `- ${k} = ${num(u.value)}: ${u.means}`), '');
  if (e.unknownTypes.length > 0) out.push(`NOT PRICED (add to scripts/lib/cost/classify.ts): ${e.unknownTypes.join(', ')}`, '');
  out.push(`${table.region} on-demand prices in ${table.currency}, ${table.hoursPerMonth} hours a month. ${table.note}`);
  return out.join('\n');
}

/** The README table: each billed type's monthly cost per estimate, the totals and the savings. */
export function renderCostTable(estimates: Estimate[], table: PriceTable = loadPrices()): string {
  const types = [...new Set(estimates.flatMap((e) => e.types.filter((t) => t.lines.length > 0).map((t) => t.type)))].sort();
  const cell = (e: Estimate, type: string) => {
    const t = e.types.find((x) => x.type === type);
    return t ? usd(t.monthlyUsd) : '-';
  };
  const requests = (e: Estimate) => num(e.usage.requestsPerMonth?.value ?? 0);
  const dates = [...new Set(Object.values(table.prices).map((p) => p.taken))].sort().join(', ');
  return [
    row(['Resource type', ...estimates.map((e) => e.name)]),
    row(['---', ...estimates.map(() => '---:')]),
    ...types.map((type) => row([`\`${type}\``, ...estimates.map((e) => cell(e, type))])),
    row(['**Total per month**', ...estimates.map((e) => `**${usd(e.monthlyUsd)}**`)]),
    row(['Saved by spot and off-hours scaling (already deducted)', ...estimates.map((e) => usd(e.savingUsd))]),
    row(['Requests per month assumed', ...estimates.map(requests)]),
    '',
    `${table.region} on-demand list prices (${table.currency}, ${table.hoursPerMonth} hours a month) taken ${dates} from the AWS pricing pages named in ` +
    '`scripts/lib/cost/prices.json`, with every usage assumption (traffic, GB of logs, NAT and endpoint data, LCUs, backup size). ' +
    'Auto Scaling groups run their minimum capacity while up; off-hours schedules and spot are modelled from the template. Account-wide free tiers are not applied. ' +
    'Every line with its quantity, unit price and assumption: `npx projen cost`.',
  ].join('\n');
}
