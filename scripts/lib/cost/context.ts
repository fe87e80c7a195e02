/**
 * What every estimator works with: the template, the usage assumptions and the prices, and the
 * line it returns: one billable item with its quantity, unit price, monthly cost and assumption.
 */
import { Price, PriceTable, Usage } from './price-table';
import { Resource, TemplateView } from './template';

/** One billable item of the estimate. */
export interface CostLine {
  /** The CloudFormation resource type it belongs to. */
  readonly type: string;
  /** What is billed, in words. */
  readonly item: string;
  readonly quantity: number;
  /** The unit of `quantity`. */
  readonly unit: string;
  readonly unitUsd: number;
  /** quantity x unitUsd. */
  readonly monthlyUsd: number;
  /** How the quantity was found: what the template says and which usage numbers were assumed. */
  readonly assumption: string;
  /** What a cost control (spot, scheduled scaling) saves on this item against on-demand at minimum capacity all month. */
  readonly savingUsd?: number;
}

export class EstimateContext {
  public readonly hours: number;

  constructor(public readonly view: TemplateView, public readonly usage: Usage, public readonly table: PriceTable) {
    this.hours = table.hoursPerMonth;
  }

  /** A price by key; throws naming the key when prices.json lacks it. */
  public price(key: string): Price {
    const p = this.table.prices[key];
    if (!p) throw new Error(`no price '${key}' in scripts/lib/cost/prices.json: add it (us-east-1 on-demand, with source and date)`);
    return p;
  }

  /** A usage assumption's number; throws naming the key when prices.json lacks it. */
  public use(key: string): number {
    const u = this.usage[key];
    if (!u) throw new Error(`no usage assumption '${key}' in scripts/lib/cost/prices.json`);
    return u.value;
  }

  /** A line priced from prices.json: quantity x the price's usd (times `factor`). */
  public line(type: string, item: string, quantity: number, priceKey: string, assumption: string, factor = 1, unit?: string): CostLine {
    const p = this.price(priceKey);
    const unitUsd = p.usd * factor;
    return { type, item, quantity, unit: unit ?? p.per, unitUsd, monthlyUsd: quantity * unitUsd, assumption };
  }
}

/** Prices the resources of one type (all of them at once, so shared usage is split once). */
export type Estimator = (resources: Resource[], ctx: EstimateContext) => CostLine[];

/** A number for assumptions: `1,000,000`, `0.4`. */
export function num(n: number): string {
  return Number(n.toFixed(3)).toLocaleString('en-US');
}
