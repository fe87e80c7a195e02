import { Duration, Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { invalid } from './validation';

/**
 * A value a tier uses, with the name of the input it came from, so that an error names what the
 * user really set.
 */
export interface Sourced<T> {
  /** The value in effect. */
  readonly value: T;
  /** The tier prop's name when the prop was given, else `preset.values.<field>`. */
  readonly source: string;
}

/**
 * Picks the tier prop when it is given, else the preset's field, and remembers which one it was.
 * Validate with `source` as the prop name: a bad value from a custom preset then names the preset
 * field the user set, not the tier prop the user never touched.
 *
 * Usage in a tier (`preset` is `(props.preset ?? Preset.dev()).values`):
 *
 * ```ts
 * const minCapacity = propOrPreset('minCapacity', props.minCapacity, preset, 'webMinCapacity');
 * checkIntRange(this, minCapacity.source, minCapacity.value, 1, 100);
 * // props.minCapacity 0             -> "minCapacity (0) must be an integer from 1 to 100 in Stack/Web"
 * // preset values.webMinCapacity 0  -> "preset.values.webMinCapacity (0) must be an integer from 1 to 100 in Stack/Web"
 * ```
 *
 * Like `props.x ?? preset.x`, only `undefined` (and `null` from plain JavaScript) falls back to
 * the preset: a user's `0` or `false` wins.
 */
export function propOrPreset<V, K extends keyof V>(prop: string, given: V[K] | undefined, preset: V, field: K): Sourced<V[K]> {
  return given !== undefined && given !== null
    ? { value: given, source: prop }
    : { value: preset[field], source: `preset.values.${String(field)}` };
}

/**
 * A number as far as synthesis can know it: a literal stays; a token that the stack resolves to a
 * number (e.g. `Lazy.number`) becomes that number; any other token (e.g. a CloudFormation
 * parameter) is returned unchanged, for CloudFormation to validate at deploy time.
 */
export function resolveNumber(scope: IConstruct, value: number): number {
  if (!Token.isUnresolved(value)) return value;
  const resolved = Stack.of(scope).resolve(value);
  return typeof resolved === 'number' ? resolved : value;
}

/** Like `resolveNumber`, for strings (a string that only contains resolvable tokens becomes a literal). */
export function resolveString(scope: IConstruct, value: string): string {
  if (typeof value !== 'string' || !Token.isUnresolved(value)) return value;
  const resolved = Stack.of(scope).resolve(value);
  return typeof resolved === 'string' ? resolved : value;
}

/** How a token is shown in an error message: what it resolves to, e.g. `token {"Ref":"Retention"}`. */
export function describeToken(scope: IConstruct, value: unknown): string {
  return `token ${JSON.stringify(Stack.of(scope).resolve(value))}`;
}

/**
 * Whether a value is a `Duration` (plain JavaScript callers can pass anything; a second copy of
 * aws-cdk-lib makes `instanceof` fail, so the methods used here are what counts).
 */
export function isDuration(value: unknown): value is Duration {
  return value instanceof Duration || (typeof value === 'object' && value !== null
    && typeof (value as Duration).toSeconds === 'function' && typeof (value as Duration).unitLabel === 'function');
}

/** The units of `Duration`, by `unitLabel()`, and how to read a duration's amount in that unit. */
const AMOUNT_IN_UNIT: Record<string, (d: Duration) => number> = {
  millis: (d) => d.toMilliseconds(),
  seconds: (d) => d.toSeconds(),
  minutes: (d) => d.toMinutes(),
  hours: (d) => d.toHours(),
  days: (d) => d.toDays(),
};
const IN_UNIT: Record<string, (amount: number) => Duration> = {
  millis: Duration.millis,
  seconds: Duration.seconds,
  minutes: Duration.minutes,
  hours: Duration.hours,
  days: Duration.days,
};

/**
 * A duration as far as synthesis can know it: a literal stays; a duration whose amount is a token
 * the stack resolves to a number (`Duration.seconds(Lazy.number(...))`) becomes a literal duration
 * of that amount in the same unit; any other (`Duration.days(parameter.valueAsNumber)`) is returned
 * unchanged: check it with `checkTokenDurationUnit` and pass it on for CloudFormation to validate.
 */
export function resolveDuration(scope: IConstruct, value: Duration): Duration {
  if (!value.isUnresolved()) return value;
  const unit = value.unitLabel();
  const read = AMOUNT_IN_UNIT[unit];
  if (!read) return value;
  const amount = resolveNumber(scope, read(value));
  return Token.isUnresolved(amount) ? value : IN_UNIT[unit](amount);
}

/**
 * A duration whose amount is a token can only be written to the template in the unit it was made
 * with: aws-cdk-lib cannot convert a token between units. Fails with the unit the template needs.
 */
export function checkTokenDurationUnit(scope: IConstruct, prop: string, value: Duration, unit: 'seconds' | 'days'): void {
  if (!value.isUnresolved() || value.unitLabel() === unit) return;
  const factory = `Duration.${unit}()`;
  invalid(scope, prop, `${describeToken(scope, AMOUNT_IN_UNIT[value.unitLabel()]?.(value))} ${value.unitLabel()}`,
    `must be made with ${factory} when its amount is a token: the template takes ${unit}, and a token cannot be converted between units`);
}
