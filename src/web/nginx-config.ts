import { Token } from 'aws-cdk-lib';
import { HOSTNAME, IPV4, formatValue, isSafeAbsolutePath, withTokenPlaceholders } from '../private/validation';

/**
 * Options for rendering the NGINX configuration of the web tier.
 */
export interface NginxConfigOptions {
  /**
   * Upstream API servers as `host:port` (on AWS: the internal ALB's DNS name and listener port).
   */
  readonly apiUpstreams: string[];

  /**
   * Port NGINX listens on.
   *
   * @default 80
   */
  readonly listenPort?: number;

  /**
   * Address NGINX binds to, e.g. `127.0.0.1`.
   *
   * @default - all addresses
   */
  readonly listenAddress?: string;

  /**
   * URL path prefix proxied to the API. Must start and end with `/`.
   *
   * @default '/api/'
   */
  readonly apiPathPrefix?: string;

  /**
   * Exact paths (besides the prefix) also proxied to the API, e.g. the API's readiness path.
   *
   * @default - none
   */
  readonly apiExactPaths?: string[];

  /**
   * Path answered by NGINX itself with `200 ok`: the public ALB's health check.
   *
   * @default '/nginx-health'
   */
  readonly healthCheckPath?: string;

  /**
   * Directory served as the static site.
   *
   * @default '/usr/share/nginx/html'
   */
  readonly staticRoot?: string;

  /**
   * Maximum request body size in megabytes (uploads).
   *
   * @default 10
   */
  readonly clientMaxBodySizeMb?: number;

  /**
   * Unix user the worker processes run as. Omit when NGINX is not started as root.
   *
   * @default 'nginx' (the Amazon Linux 2023 package's user)
   */
  readonly user?: string;

  /**
   * Path of the PID file.
   *
   * @default '/run/nginx.pid'
   */
  readonly pidFile?: string;

  /**
   * Path of `mime.types`.
   *
   * @default '/etc/nginx/mime.types'
   */
  readonly mimeTypesPath?: string;

  /**
   * Directory for logs (`access.log`, `error.log`).
   *
   * @default '/var/log/nginx'
   */
  readonly logDirectory?: string;

  /**
   * Directory for NGINX temporary files (request bodies, proxy buffers). Needed when NGINX runs
   * as a user that cannot write to the package's default temp paths.
   *
   * @default - the package's compiled-in defaults
   */
  readonly tempDirectory?: string;

  /**
   * How many upstreams NGINX tries for one idempotent request before it gives up.
   *
   * @default 3
   */
  readonly proxyNextUpstreamTries?: number;

  /**
   * Call the upstreams over TLS and verify their certificate for this name (the internal ALB's
   * domain name when the app tier has a certificate).
   *
   * @default - plain HTTP to the upstreams
   */
  readonly apiTlsServerName?: string;

  /**
   * CA bundle used to verify the upstreams' certificates when `apiTlsServerName` is set.
   *
   * @default '/etc/pki/tls/certs/ca-bundle.crt' (Amazon Linux 2023)
   */
  readonly apiTlsTrustedCertificate?: string;
}

/**
 * Renders the complete `nginx.conf` the web tier's instances run: serves the static site, proxies
 * the API prefix to the upstreams (retrying idempotent requests on another upstream when one fails),
 * answers its own health check, and sets security headers.
 *
 * The same function renders the configuration used on AWS and in local tests, so `nginx -t` can be
 * run on exactly what the instances get.
 */
export function renderNginxConfig(options: NginxConfigOptions): string {
  return NginxConfig.render(options);
}

/**
 * The NGINX configuration of the web tier's instances.
 */
export class NginxConfig {
  /**
   * Renders the complete `nginx.conf` (see `renderNginxConfig`).
   */
  public static render(options: NginxConfigOptions): string {
    return render(options);
  }

  private constructor() {}
}

function render(options: NginxConfigOptions): string {
  checkOptions(options);
  const listenPort = options.listenPort ?? 80;
  const prefix = options.apiPathPrefix ?? '/api/';
  const health = options.healthCheckPath ?? '/nginx-health';
  const root = options.staticRoot ?? '/usr/share/nginx/html';
  const bodyMb = options.clientMaxBodySizeMb ?? 10;
  const user = options.user === undefined ? 'nginx' : options.user;
  const logDir = options.logDirectory ?? '/var/log/nginx';
  const tries = options.proxyNextUpstreamTries ?? 3;
  const listen = options.listenAddress ? `${options.listenAddress}:${listenPort}` : `${listenPort}`;

  const tls = options.apiTlsServerName
    ? [
      'proxy_ssl_server_name on;',
      `proxy_ssl_name ${options.apiTlsServerName};`,
      'proxy_ssl_verify on;',
      'proxy_ssl_verify_depth 3;',
      `proxy_ssl_trusted_certificate ${options.apiTlsTrustedCertificate ?? '/etc/pki/tls/certs/ca-bundle.crt'};`,
      'proxy_ssl_protocols TLSv1.2 TLSv1.3;',
      'proxy_ssl_session_reuse on;',
    ]
    : [];
  // Proxy settings are set once at server level and inherited by every API location (the static
  // location proxies nothing, so they are inert there); each API location only names the upstream.
  // This keeps each extra exact path to three lines of configuration (user data is limited to 16 KB).
  const proxyPass = `proxy_pass ${options.apiTlsServerName ? 'https' : 'http'}://api_backend;`;
  const proxyDirectives = [
    ...tls,
    'proxy_http_version 1.1;',
    'proxy_set_header Connection "";',
    'proxy_set_header Host $host;',
    'proxy_set_header X-Real-IP $remote_addr;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $xfp;',
    'proxy_connect_timeout 2s;',
    'proxy_send_timeout 30s;',
    'proxy_read_timeout 30s;',
    // Idempotent requests move to the next upstream on a failure; POSTs are never replayed.
    'proxy_next_upstream error timeout http_502 http_503 http_504;',
    `proxy_next_upstream_tries ${tries};`,
    'proxy_next_upstream_timeout 10s;',
  ];
  const indent = (lines: string[], n: number) => lines.map((l) => `${' '.repeat(n)}${l}`).join('\n');

  const exactLocations = (options.apiExactPaths ?? []).map((p) => [
    `    location = ${p} {`,
    `      ${proxyPass}`,
    '    }',
  ].join('\n'));

  const temp = options.tempDirectory
    ? [
      `  client_body_temp_path ${options.tempDirectory}/client_body;`,
      `  proxy_temp_path ${options.tempDirectory}/proxy;`,
      `  fastcgi_temp_path ${options.tempDirectory}/fastcgi;`,
      `  uwsgi_temp_path ${options.tempDirectory}/uwsgi;`,
      `  scgi_temp_path ${options.tempDirectory}/scgi;`,
    ]
    : [];

  const lines = [
    '# Rendered by cdk-three-tier (renderNginxConfig). Do not edit on the instance.',
    ...(user ? [`user ${user};`] : []),
    'worker_processes auto;',
    `pid ${options.pidFile ?? '/run/nginx.pid'};`,
    `error_log ${logDir}/error.log warn;`,
    '',
    'events {',
    '  worker_connections 1024;',
    '}',
    '',
    'http {',
    `  include ${options.mimeTypesPath ?? '/etc/nginx/mime.types'};`,
    '  default_type application/octet-stream;',
    '  server_tokens off;',
    '  sendfile on;',
    '  keepalive_timeout 65;',
    `  client_max_body_size ${bodyMb}m;`,
    `  access_log ${logDir}/access.log;`,
    ...temp,
    '',
    '  # The public ALB terminates TLS and sets X-Forwarded-Proto; keep it, or use the scheme seen here.',
    '  map $http_x_forwarded_proto $xfp {',
    '    default $http_x_forwarded_proto;',
    "    '' $scheme;",
    '  }',
    '',
    '  upstream api_backend {',
    ...options.apiUpstreams.map((u) => `    server ${u} max_fails=3 fail_timeout=10s;`),
    '    keepalive 32;',
    '  }',
    '',
    '  server {',
    `    listen ${listen} default_server;`,
    '    server_name _;',
    `    root ${root};`,
    '    index index.html;',
    '',
    '    add_header X-Content-Type-Options "nosniff" always;',
    '    add_header X-Frame-Options "DENY" always;',
    '    add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
    '',
    '    # Settings of every API location below.',
    indent(proxyDirectives, 4),
    '',
    `    location = ${health} {`,
    '      access_log off;',
    '      default_type text/plain;',
    "      return 200 'ok';",
    '    }',
    '',
    `    location ${prefix} {`,
    `      ${proxyPass}`,
    '    }',
    ...exactLocations,
    '',
    '    location / {',
    '      try_files $uri $uri/ /index.html;',
    '    }',
    '  }',
    '}',
    '',
  ];
  return lines.join('\n');
}

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
function checkOptions(o: NginxConfigOptions): void {
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
