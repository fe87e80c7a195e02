/**
 * The committed price table (prices.json): us-east-1 on-demand list prices, each with the page it
 * was read from and the date, and the usage assumptions per preset that turn prices into a monthly
 * estimate. Every number the estimate uses comes from here, so the printed assumptions are complete.
 */
import * as fs from 'fs';
import * as path from 'path';

/** One unit price as published. */
export interface Price {
  readonly usd: number;
  /** The unit, in words ("instance-hour", "GB-month"). */
  readonly per: string;
  /** The public AWS pricing page the price was read from. */
  readonly source: string;
  /** The date the price was read (YYYY-MM-DD). */
  readonly taken: string;
}

/** One usage assumption: its number and what it means. */
export interface UsageValue {
  readonly value: number;
  readonly means: string;
}

/** The usage assumptions of one preset (the common ones merged with the preset's own). */
export type Usage = Readonly<Record<string, UsageValue>>;

export interface PriceTable {
  readonly region: string;
  readonly currency: string;
  readonly hoursPerMonth: number;
  readonly note: string;
  readonly prices: Readonly<Record<string, Price>>;
  readonly usage: Readonly<Record<string, Usage>>;
}

export const PRICES_PATH = path.join(__dirname, 'prices.json');

/** Reads and checks prices.json: every price has a number, a unit, an https source and a date. */
export function loadPrices(file: string = PRICES_PATH): PriceTable {
  const table = JSON.parse(fs.readFileSync(file, 'utf8')) as PriceTable;
  for (const [key, p] of Object.entries(table.prices)) {
    const ok = typeof p.usd === 'number' && p.usd >= 0 && p.per && /^https:\/\/aws\.amazon\.com\//.test(p.source) && /^\d{4}-\d{2}-\d{2}$/.test(p.taken);
    if (!ok) throw new Error(`${file}: price '${key}' needs usd (a number >= 0), per, source (an https://aws.amazon.com/ page) and taken (YYYY-MM-DD)`);
  }
  for (const [preset, usage] of Object.entries(table.usage)) {
    for (const [key, u] of Object.entries(usage)) {
      if (typeof u.value !== 'number' || !u.means) throw new Error(`${file}: usage '${preset}.${key}' needs value (a number) and means`);
    }
  }
  return table;
}

/** The usage assumptions of a preset: the common ones with the preset's own on top. */
export function usageOf(table: PriceTable, preset: string): Usage {
  const own = table.usage[preset];
  if (!own || preset === 'common') throw new Error(`prices.json has no usage for the preset '${preset}' (has: ${Object.keys(table.usage).filter((k) => k !== 'common').join(', ')})`);
  return { ...table.usage.common, ...own };
}
