/**
 * Hours on per month of an Auto Scaling group with scheduled actions: the actions' cron
 * expressions (`AWS::AutoScaling::ScheduledAction` `Recurrence`, five fields, in the action's time
 * zone) are replayed minute by minute over two weeks, and the second week's running instances give
 * the average. Only weekly patterns are modelled (day of month and month `*`); anything else is
 * reported as not modelled.
 */

const MINUTES_PER_WEEK = 7 * 24 * 60;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The values a cron field matches, or undefined when the field is not understood. */
export function cronField(field: string, min: number, max: number, names: string[] = []): Set<number> | undefined {
  const value = (s: string): number => {
    const named = names.indexOf(s.toUpperCase());
    return named >= 0 ? named + min : /^\d+$/.test(s) ? Number(s) : NaN;
  };
  const out = new Set<number>();
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const step = m[2] ? Number(m[2]) : 1;
    const [from, to] = m[1] === '*' ? [min, max] : m[1].includes('-') ? m[1].split('-').map(value) : [value(m[1]), m[2] ? max : value(m[1])];
    if ([from, to].some((n) => Number.isNaN(n) || n < min || n > max) || from > to || step < 1) return undefined;
    for (let n = from; n <= to; n += step) out.add(n);
  }
  return out;
}

/** Whether a five-field cron expression fires at a minute of the week (0 = Sunday 00:00), or undefined if not weekly. */
export function weeklyCron(expression: string): ((minuteOfWeek: number) => boolean) | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 || !['*', '?'].includes(fields[2]) || fields[3] !== '*') return undefined;
  const minutes = cronField(fields[0], 0, 59);
  const hours = cronField(fields[1], 0, 23);
  const days = cronField(fields[4] === '?' ? '*' : fields[4], 0, 7, DAY_NAMES);
  if (!minutes || !hours || !days) return undefined;
  if (days.has(7)) days.add(0);
  return (m) => minutes.has(m % 60) && hours.has(Math.floor(m / 60) % 24) && days.has(Math.floor(m / 1440) % 7);
}

/** A scheduled action's effect on the group. */
export interface ScheduledChange {
  readonly recurrence: string;
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly desiredCapacity?: number;
}

export interface Capacity {
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
}

/**
 * Minutes of a week spent at each running-instance count, from the scheduled changes; undefined
 * when a recurrence is not a weekly cron. The group runs its desired capacity (load at the minimum).
 */
export function weeklyProfile(start: Capacity, changes: ScheduledChange[]): Map<number, number> | undefined {
  const matchers = changes.map((c) => weeklyCron(c.recurrence));
  if (matchers.some((m) => m === undefined)) return undefined;
  let { minSize, maxSize, desiredCapacity } = start;
  const profile = new Map<number, number>();
  for (let t = 0; t < 2 * MINUTES_PER_WEEK; t++) {
    changes.forEach((c, i) => {
      if (!matchers[i]!(t % MINUTES_PER_WEEK)) return;
      minSize = c.minSize ?? minSize;
      maxSize = c.maxSize ?? maxSize;
      desiredCapacity = Math.min(maxSize, Math.max(minSize, c.desiredCapacity ?? desiredCapacity));
    });
    if (t >= MINUTES_PER_WEEK) profile.set(desiredCapacity, (profile.get(desiredCapacity) ?? 0) + 1);
  }
  return profile;
}

/** The average of a weekly profile (instances). */
export function averageOf(profile: Map<number, number>): number {
  let sum = 0;
  for (const [count, minutes] of profile) sum += count * minutes;
  return sum / MINUTES_PER_WEEK;
}

export { MINUTES_PER_WEEK };
