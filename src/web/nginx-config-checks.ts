import { Token } from 'aws-cdk-lib';
import type { NginxConfigOptions } from './nginx-config';
import { HOSTNAME, IPV4, formatValue, isSafeAbsolutePath, withTokenPlaceholders } from '../private/validation';

/** A URL path NGINX can take as a location: letters, digits and `. _ ~ - /`, at most 1024 characters. */
const URL_PATH = /^\/[A-Za-z0-9._~\-/]{0,1023}$/;
/** A Unix user name. */
const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

function fail(prop: string, value: unknown, allowed: string): never {
  throw new Error(`${prop} (${formatValue(value)}) ${allowed}`);
}

/**
 * Checks every option by its grammar before any of it reaches the configuration: nothing a caller
 * passes can end a directive (`;`), open a block, start a comment, or name a variable. Tokens are
 * accepted only where a whole host name stands (upstream hosts, the TLS name), and only their
 * literal surroundings can be checked here: callers must pass tokens that stand for AWS-generated
 * values (the web tier checks that).
 */
export function checkNginxConfigOptions(o: NginxConfigOptions): void {
  const int = (prop: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)) {
      fail(prop, value, `must be an integer from ${min} to ${max}`);
    }
  };
  int('listenPort', o.listenPort, 1, 65535);
  int('clientMaxBodySizeMb', o.clientMaxBodySizeMb, 1, 1024);
  int('proxyNextUpstreamTries', o.proxyNextUpstreamTries, 1, 10);

  if (!Array.isArray(o.apiUpstreams) || o.apiUpstreams.length === 0) {
    fail('apiUpstreams', o.apiUpstreams, 'must name at least one upstream (host:port)');
  }
  for (const u of o.apiUpstreams) {
    const text = typeof u === 'string' ? withTokenPlaceholders(u) : '';
    const m = /^(.+):([1-9][0-9]{0,4})$/.exec(text);
    if (!m || !(HOSTNAME.test(m[1]) || IPV4.test(m[1])) || Number(m[2]) > 65535) {
      fail('apiUpstreams', u, 'entries must be host:port (a host name or IPv4 address, and a port from 1 to 65535)');
    }
  }
  if (o.listenAddress !== undefined && (typeof o.listenAddress !== 'string' || !IPV4.test(o.listenAddress))) {
    fail('listenAddress', o.listenAddress, 'must be an IPv4 address written as four decimal numbers from 0 to 255 without leading zeros');
  }
  const path = (prop: string, value: string | undefined) => {
    if (value !== undefined && (typeof value !== 'string' || !URL_PATH.test(value))) {
      fail(prop, value, "must be a URL path starting with '/' (letters, digits, . _ ~ - /; at most 1024 characters)");
    }
  };
  path('healthCheckPath', o.healthCheckPath);
  path('apiPathPrefix', o.apiPathPrefix);
  if (o.apiPathPrefix !== undefined && !o.apiPathPrefix.endsWith('/')) {
    fail('apiPathPrefix', o.apiPathPrefix, "must start and end with '/'");
  }
  if (o.apiPathPrefix === '/') {
    fail('apiPathPrefix', o.apiPathPrefix, "must not be '/': that location serves the static site");
  }
  if (o.apiExactPaths !== undefined && !Array.isArray(o.apiExactPaths)) fail('apiExactPaths', o.apiExactPaths, 'must be a list of URL paths');
  (o.apiExactPaths ?? []).forEach((p) => path('apiExactPaths', p));
  const exact = [o.healthCheckPath ?? '/nginx-health', ...(o.apiExactPaths ?? [])];
  const duplicate = exact.find((p, i) => exact.indexOf(p) !== i);
  if (duplicate !== undefined) {
    fail('apiExactPaths', o.apiExactPaths, `must not repeat a path or the health check path ('${duplicate}' appears twice; NGINX refuses duplicate locations)`);
  }
  for (const [prop, value] of [
    ['staticRoot', o.staticRoot], ['pidFile', o.pidFile], ['logDirectory', o.logDirectory],
    ['mimeTypesPath', o.mimeTypesPath], ['tempDirectory', o.tempDirectory], ['apiTlsTrustedCertificate', o.apiTlsTrustedCertificate],
  ] as Array<[string, string | undefined]>) {
    if (value !== undefined && (typeof value !== 'string' || Token.isUnresolved(value) || !isSafeAbsolutePath(value))) {
      fail(prop, value, "must be a literal absolute path of letters, digits and _ . + @ - (no empty, '.' or '..' segments; at most 1024 characters)");
    }
  }
  if (o.user !== undefined && o.user !== '' && (typeof o.user !== 'string' || !UNIX_USER.test(o.user))) {
    fail('user', o.user, 'must be a Unix user name (a lower-case letter or _, then up to 31 lower-case letters, digits, _ or -), or empty to omit the directive');
  }
  if (o.apiTlsServerName !== undefined && (typeof o.apiTlsServerName !== 'string' || !HOSTNAME.test(withTokenPlaceholders(o.apiTlsServerName)))) {
    fail('apiTlsServerName', o.apiTlsServerName, 'must be a host name (RFC 1123: labels of letters, digits and inner hyphens, dot-separated)');
  }
}
