import { CfnParameter, Stack, Token, Tokenization } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { describeToken, resolveNumber, resolveString } from './resolve';
import { environmentNameProblem, environmentValueProblem } from './systemd';

/**
 * Throws a synth-time error that names the construct path, the prop, the value and what is allowed.
 */
export function invalid(scope: IConstruct, prop: string, value: unknown, allowed: string): never {
  throw new Error(`${prop} (${formatValue(value)}) ${allowed} in ${scope.node.path}`);
}

/** A value as error messages show it. */
export function formatValue(value: unknown): string {
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
  if (value === undefined) return;
  if (Token.isUnresolved(value)) invalid(scope, prop, value, 'must be a literal URL path (it is written into the boot script and configuration files at synth time)');
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value) || value.length > 1024) {
    invalid(scope, prop, value, "must be a URL path starting with '/' (letters, digits, . _ ~ - /; at most 1024 characters)");
  }
}

/**
 * The value with every token replaced by a placeholder that is valid in every grammar below (a
 * lower-case DNS label), so the literal parts around tokens can be checked. `undefined` stays.
 */
export function withTokenPlaceholders(value: string): string {
  if (!Token.isUnresolved(value)) return value;
  try {
    return Tokenization.reverseString(value)
      .mapTokens({ mapToken: () => TOKEN_PLACEHOLDER })
      .join({ join: (left: any, right: any) => `${left}${right}` });
  } catch {
    // Text that looks like a token but is none (e.g. typed by hand): checked as the literal it is,
    // which no grammar here accepts.
    return value;
  }
}

/** What a token stands for in grammar checks: a valid DNS label, path segment and key segment. */
export const TOKEN_PLACEHOLDER = 'tokenvalue';

/**
 * A host name per RFC 1123: dot-separated labels of letters, digits and inner hyphens, at most 253
 * characters; not the single label `unix`, which NGINX reads as the start of a socket path (`unix:80`).
 */
export const HOSTNAME = /^(?=.{1,253}$)(?![Uu][Nn][Ii][Xx]$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const HOSTNAME_ALLOWED = "must be a host name (RFC 1123: labels of letters, digits and inner hyphens, 1 to 63 characters each, dot-separated, at most 253 in all; not 'unix')";

/** A dotted-quad IPv4 address written canonically (no leading zeros). */
export const IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** An absolute path of safe characters, without empty, `.` or `..` segments. */
export function isSafeAbsolutePath(value: string): boolean {
  if (!/^(\/[A-Za-z0-9_.+@-]+)+\/?$/.test(value) || value.length > 1024) return false;
  return !value.split('/').some((segment) => segment === '.' || segment === '..');
}

/** Validates a host name (tokens: the literal parts around them). */
export function checkHostname(scope: IConstruct, prop: string, value: string | undefined, options: { minLabels?: number } = {}): void {
  if (value === undefined) return;
  const text = withTokenPlaceholders(String(value));
  const minLabels = options.minLabels ?? 1;
  // A token may stand for several labels: only a literal's labels are counted.
  const labels = Token.isUnresolved(value) ? minLabels : text.split('.').length;
  if (typeof value !== 'string' || !HOSTNAME.test(text) || labels < minLabels) {
    invalid(scope, prop, value, minLabels > 1 ? `${HOSTNAME_ALLOWED}, with at least ${minLabels} labels` : HOSTNAME_ALLOWED);
  }
}

/** Validates `host:port` where host is a host name or an IPv4 address and port is 1 to 65535. */
export function checkHostPort(scope: IConstruct, prop: string, value: string): void {
  const text = withTokenPlaceholders(String(value));
  const m = /^(.+):([1-9][0-9]{0,4})$/.exec(text);
  if (typeof value !== 'string' || !m || !(HOSTNAME.test(m[1]) || IPV4.test(m[1])) || Number(m[2]) > 65535) {
    invalid(scope, prop, value, "must be host:port (a host name or IPv4 address, and a port from 1 to 65535; not 'unix', which NGINX reads as a socket path)");
  }
}

/** Validates an S3 key prefix: path segments of safe characters, each ending with '/'. */
export function checkS3Prefix(scope: IConstruct, prop: string, value: string | undefined): void {
  if (value === undefined || value === '') return;
  const ok = typeof value === 'string' && !Token.isUnresolved(value) && value.length <= 512
    && /^([A-Za-z0-9_.-]+\/)+$/.test(value) && !value.split('/').some((s) => s === '.' || s === '..');
  if (!ok) {
    invalid(scope, prop, value, "must be a literal S3 key prefix: one or more segments of letters, digits and _ . - (not '.' or '..'), each ending with '/', at most 512 characters");
  }
}

/** Validates a value that must be a plain string (plain JavaScript callers can pass anything). */
export function checkString(scope: IConstruct, prop: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') invalid(scope, prop, value, `must be a string (got ${value === null ? 'null' : typeof value})`);
}

/**
 * A number that must be known at synth time: literals pass; a token that resolves to a number in
 * the stack (e.g. `Lazy.number`) gives that number (`resolveNumber`); any other token (e.g. a
 * CloudFormation parameter) is an error that says a literal is needed and why.
 */
export function literalNumber(scope: IConstruct, prop: string, value: number, why: string): number {
  if (typeof value !== 'number') invalid(scope, prop, value, 'must be a number');
  return requireLiteral(scope, prop, resolveNumber(scope, value), 'number', why);
}

/** Like `literalNumber`, for strings. */
export function literalString(scope: IConstruct, prop: string, value: string, why: string): string {
  if (typeof value !== 'string') invalid(scope, prop, value, 'must be a string');
  return requireLiteral(scope, prop, resolveString(scope, value), 'string', why);
}

function requireLiteral<T extends number | string>(scope: IConstruct, prop: string, value: T, kind: string, why: string): T {
  if (!Token.isUnresolved(value)) return value;
  return invalid(scope, prop, describeToken(scope, value), `must be a literal ${kind} (${why})`);
}

/**
 * Checks that a token in a value that reaches a configuration file or the boot script can only
 * stand for a value AWS generates (a resource attribute, a reference to a resource, a pseudo
 * parameter, or an export of another stack), never for a deploy-time CloudFormation parameter or a
 * condition, whose value nothing validates. Literal values pass (check them with a grammar).
 */
export function checkTokenSource(scope: IConstruct, prop: string, value: string | undefined): void {
  if (value === undefined || !Token.isUnresolved(value)) return;
  const stack = Stack.of(scope);
  const parameters = new Set(stack.node.findAll()
    .filter((c): c is CfnParameter => c instanceof CfnParameter)
    .map((p) => stack.resolve(p.logicalId)));
  let resolvedTokens: any[];
  try {
    // Each token on its own: the literal text around them is the caller's to check (grammar or escaping).
    resolvedTokens = Tokenization.reverseString(value).tokens.map((t) => stack.resolve(t));
  } catch {
    return invalid(scope, prop, value, 'must be a literal or an attribute of an AWS resource (this text looks like a token but is none)');
  }
  for (const resolved of resolvedTokens) {
    const problem = findUnsafeIntrinsic(resolved, parameters);
    if (problem) {
      invalid(scope, prop, value, `must be a literal or an attribute of an AWS resource, not ${problem}: a deploy-time value is written into a configuration file unchecked`);
    }
    const text = findUnsafeTokenText(resolved);
    if (text !== undefined) {
      invalid(scope, prop, value, `must be a literal or an attribute of an AWS resource, not a token holding the text ${JSON.stringify(text)}: text inside a token is written into a configuration file unchecked and unescaped (pass the text itself)`);
    }
  }
}

function findUnsafeIntrinsic(value: any, parameters: Set<string>): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = findUnsafeIntrinsic(v, parameters);
      if (p) return p;
    }
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length !== 1) return 'an object';
  const [fn] = keys;
  const arg = value[fn];
  switch (fn) {
    case 'Ref':
      return parameters.has(arg) ? `the CloudFormation parameter ${arg}` : undefined;
    case 'Fn::GetAtt':
    case 'Fn::ImportValue':
      return undefined;
    case 'Fn::Join':
    case 'Fn::Select':
    case 'Fn::Split':
    case 'Fn::Base64':
      return findUnsafeIntrinsic(arg, parameters);
    default:
      return `the intrinsic ${fn}`;
  }
}

/**
 * Text a token may hold itself (a `Lazy` value, the literal parts of an `Fn::Join`): characters that
 * no configuration file, NGINX or systemd, gives a meaning to. Grammar checks see a token as a
 * placeholder, so its own text must be harmless wherever it lands.
 */
const SAFE_TOKEN_TEXT = /^[A-Za-z0-9._:/@+=,*-]*$/;

/** The first literal text inside a resolved token that is not `SAFE_TOKEN_TEXT` (names inside Ref, GetAtt and ImportValue aside). */
function findUnsafeTokenText(value: any): string | undefined {
  if (typeof value === 'string') return SAFE_TOKEN_TEXT.test(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = findUnsafeTokenText(v);
      if (t !== undefined) return t;
    }
    return undefined;
  }
  for (const [fn, arg] of Object.entries(value)) {
    if (fn === 'Ref' || fn === 'Fn::GetAtt' || fn === 'Fn::ImportValue') continue;
    const t = findUnsafeTokenText(arg);
    if (t !== undefined) return t;
  }
  return undefined;
}

/**
 * Validates exact URL paths NGINX proxies (e.g. `publicPaths`): each a URL path, none repeated and
 * none equal to the health check path (NGINX refuses duplicate locations at boot).
 */
export function checkExactPaths(scope: IConstruct, prop: string, paths: string[] | undefined, healthCheckPath: string): void {
  if (paths === undefined) return;
  if (!Array.isArray(paths)) invalid(scope, prop, paths, 'must be a list of URL paths');
  paths.forEach((p) => {
    if (typeof p !== 'string' || Token.isUnresolved(p)) invalid(scope, prop, p, 'entries must be literal URL paths');
    checkPath(scope, prop, p);
  });
  const seen = new Set<string>([healthCheckPath]);
  for (const p of paths) {
    if (seen.has(p)) {
      invalid(scope, prop, paths, `must not repeat a path or the NGINX health check path '${healthCheckPath}' ('${p}' appears twice; NGINX refuses duplicate locations)`);
    }
    seen.add(p);
  }
}

/**
 * Validates a domain name a certificate and DNS record are made for: a host name of at least two
 * labels; with a hosted zone whose name is known, inside that zone. A token passes only when it
 * stands for an AWS-generated value (never a deploy-time parameter): it reaches NGINX's configuration.
 */
export function checkDomainName(scope: IConstruct, prop: string, domainName: string | undefined, hostedZone?: { readonly zoneName: string }): void {
  if (domainName === undefined) return;
  checkString(scope, prop, domainName);
  checkTokenSource(scope, prop, domainName);
  checkHostname(scope, prop, domainName, { minLabels: 2 });
  if (!hostedZone || Token.isUnresolved(domainName)) return;
  let zoneName: string | undefined;
  try {
    zoneName = hostedZone.zoneName;
  } catch {
    return; // HostedZone.fromHostedZoneId() has no name to compare with
  }
  if (zoneName === undefined || Token.isUnresolved(zoneName)) return;
  const zone = zoneName.replace(/\.$/, '').toLowerCase();
  const name = domainName.replace(/\.$/, '').toLowerCase();
  if (name !== zone && !name.endsWith(`.${zone}`)) {
    invalid(scope, prop, domainName, `must be inside the hosted zone '${zoneName}' (the zone gets its records)`);
  }
}

/**
 * Validates the environment of a service: names that systemd and the shell accept and that carry no
 * meaning to the system or the tier (`reserved`), values that can be carried byte for byte
 * (anything but NUL and broken Unicode), tokens only where they stand for AWS-generated values.
 */
export function checkEnvironment(scope: IConstruct, prop: string, environment: { [name: string]: string } | undefined, reserved: string[]): void {
  if (environment === undefined) return;
  if (environment === null || typeof environment !== 'object' || Array.isArray(environment)) {
    invalid(scope, prop, environment, 'must be a map of names to strings');
  }
  for (const [name, value] of Object.entries(environment)) {
    const nameProblem = environmentNameProblem(name);
    if (nameProblem) invalid(scope, `${prop} name`, name, nameProblem);
    if (reserved.includes(name)) invalid(scope, `${prop} name`, name, `must not be one the tier sets (${reserved.join(', ')})`);
    const valueProblem = environmentValueProblem(value);
    if (valueProblem) invalid(scope, `${prop}.${name}`, value, valueProblem);
    checkTokenSource(scope, `${prop}.${name}`, value);
  }
}

/** Validates a start command: one non-empty line of literal text, run by `/bin/sh` from a file. */
export function checkStartCommand(scope: IConstruct, prop: string, command: string): void {
  checkString(scope, prop, command);
  if (Token.isUnresolved(command)) invalid(scope, prop, command, 'must be a literal (it is written into the start script at synth time)');
  if (command.trim() === '' || /[\0\n\r]/.test(command) || Buffer.byteLength(command, 'utf8') > 4096) {
    invalid(scope, prop, command, 'must be one non-empty line (no NUL, CR or LF) of at most 4096 bytes');
  }
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(command)) {
    invalid(scope, prop, command, 'must be valid Unicode (a lone surrogate cannot be written as UTF-8: the start script would hold U+FFFD instead)');
  }
}
