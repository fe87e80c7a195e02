import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Throws a synth-time error that names the construct path, the prop, the value and what is allowed.
 */
export function invalid(scope: IConstruct, prop: string, value: unknown, allowed: string): never {
  throw new Error(`${prop} (${formatValue(value)}) ${allowed} in ${scope.node.path}`);
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  return String(value);
}

/** True when the value can be checked at synth time (not a token). */
export function isConcrete(value: number | string | undefined): value is number | string {
  return value !== undefined && !Token.isUnresolved(value);
}

/** Validates an integer in [min, max]; tokens and undefined are skipped. */
export function checkIntRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (!isConcrete(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalid(scope, prop, value, `must be an integer from ${min} to ${max}`);
  }
}

/** Validates that one value is not below another (e.g. maxCapacity >= minCapacity). */
export function checkOrder(scope: IConstruct, lowProp: string, low: number | undefined, highProp: string, high: number | undefined): void {
  if (!isConcrete(low) || !isConcrete(high)) return;
  if (high < low) {
    throw new Error(`${highProp} (${high}) must be >= ${lowProp} (${low}) in ${scope.node.path}`);
  }
}

/** Validates a TCP port. */
export function checkPort(scope: IConstruct, prop: string, value: number | undefined): void {
  checkIntRange(scope, prop, value, 1, 65535);
}

/** Validates a URL path such as a health check path. */
export function checkPath(scope: IConstruct, prop: string, value: string | undefined): void {
  if (!isConcrete(value)) return;
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(value) || value.length > 1024) {
    invalid(scope, prop, value, "must be a URL path starting with '/' (letters, digits, . _ ~ - /; at most 1024 characters)");
  }
}
