import { checkNginxConfigOptions as checkOptions } from './nginx-config-checks';

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
  const logDir = options.logDirectory ?? '/var/log/nginx';
  return [
    ...mainLines(options, logDir),
    '',
    'http {',
    ...httpSettingLines(options, logDir),
    '',
    ...forwardedProtoMapLines(),
    '',
    ...upstreamLines(options.apiUpstreams),
    '',
    ...serverLines(options),
    '}',
    '',
  ].join('\n');
}

/** The header comment and the main context: user, workers, PID file, error log, events. */
function mainLines(options: NginxConfigOptions, logDir: string): string[] {
  const user = options.user === undefined ? 'nginx' : options.user;
  return [
    '# Rendered by cdk-three-tier (renderNginxConfig). Do not edit on the instance.',
    ...(user ? [`user ${user};`] : []),
    'worker_processes auto;',
    `pid ${options.pidFile ?? '/run/nginx.pid'};`,
    `error_log ${logDir}/error.log warn;`,
    '',
    'events {',
    '  worker_connections 1024;',
    '}',
  ];
}

/** The `http` context's own settings: MIME types, sendfile, keepalive, body size, access log, temp paths. */
function httpSettingLines(options: NginxConfigOptions, logDir: string): string[] {
  return [
    `  include ${options.mimeTypesPath ?? '/etc/nginx/mime.types'};`,
    '  default_type application/octet-stream;',
    '  server_tokens off;',
    '  sendfile on;',
    '  keepalive_timeout 65;',
    `  client_max_body_size ${options.clientMaxBodySizeMb ?? 10}m;`,
    `  access_log ${logDir}/access.log;`,
    ...tempPathLines(options.tempDirectory),
  ];
}

/** Temporary file paths under one directory, when it is given. */
function tempPathLines(tempDirectory: string | undefined): string[] {
  if (!tempDirectory) return [];
  return [
    `  client_body_temp_path ${tempDirectory}/client_body;`,
    `  proxy_temp_path ${tempDirectory}/proxy;`,
    `  fastcgi_temp_path ${tempDirectory}/fastcgi;`,
    `  uwsgi_temp_path ${tempDirectory}/uwsgi;`,
    `  scgi_temp_path ${tempDirectory}/scgi;`,
  ];
}

/** `$xfp`: the X-Forwarded-Proto the public ALB set, or the scheme NGINX saw. */
function forwardedProtoMapLines(): string[] {
  return [
    '  # The public ALB terminates TLS and sets X-Forwarded-Proto; keep it, or use the scheme seen here.',
    '  map $http_x_forwarded_proto $xfp {',
    '    default $http_x_forwarded_proto;',
    "    '' $scheme;",
    '  }',
  ];
}

/** The API upstream group with keepalive connections. */
function upstreamLines(upstreams: string[]): string[] {
  return [
    '  upstream api_backend {',
    ...upstreams.map((u) => `    server ${u} max_fails=3 fail_timeout=10s;`),
    '    keepalive 32;',
    '  }',
  ];
}

/** The server: security headers, proxy settings, health check, API locations, static site. */
function serverLines(options: NginxConfigOptions): string[] {
  const listenPort = options.listenPort ?? 80;
  const listen = options.listenAddress ? `${options.listenAddress}:${listenPort}` : `${listenPort}`;
  const proxyPass = `proxy_pass ${options.apiTlsServerName ? 'https' : 'http'}://api_backend;`;
  return [
    '  server {',
    `    listen ${listen} default_server;`,
    '    server_name _;',
    `    root ${options.staticRoot ?? '/usr/share/nginx/html'};`,
    '    index index.html;',
    '',
    '    add_header X-Content-Type-Options "nosniff" always;',
    '    add_header X-Frame-Options "DENY" always;',
    '    add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
    '',
    '    # Settings of every API location below.',
    proxyDirectives(options).map((l) => `    ${l}`).join('\n'),
    '',
    ...locationLines(options, proxyPass),
    '  }',
  ];
}

/**
 * Proxy settings, set once at server level and inherited by every API location (the static
 * location proxies nothing, so they are inert there); each API location only names the upstream.
 * This keeps each extra exact path to three lines of configuration (user data is limited to 16 KB).
 */
function proxyDirectives(options: NginxConfigOptions): string[] {
  return [
    ...upstreamTlsDirectives(options),
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
    `proxy_next_upstream_tries ${options.proxyNextUpstreamTries ?? 3};`,
    'proxy_next_upstream_timeout 10s;',
  ];
}

/** TLS to the upstreams, verifying their certificate for `apiTlsServerName`, when it is given. */
function upstreamTlsDirectives(options: NginxConfigOptions): string[] {
  if (!options.apiTlsServerName) return [];
  return [
    'proxy_ssl_server_name on;',
    `proxy_ssl_name ${options.apiTlsServerName};`,
    'proxy_ssl_verify on;',
    'proxy_ssl_verify_depth 3;',
    `proxy_ssl_trusted_certificate ${options.apiTlsTrustedCertificate ?? '/etc/pki/tls/certs/ca-bundle.crt'};`,
    'proxy_ssl_protocols TLSv1.2 TLSv1.3;',
    'proxy_ssl_session_reuse on;',
  ];
}

/** The health check answered by NGINX, the API prefix and exact paths, and the static site. */
function locationLines(options: NginxConfigOptions, proxyPass: string): string[] {
  const exactLocations = (options.apiExactPaths ?? []).map((p) => [
    `    location = ${p} {`,
    `      ${proxyPass}`,
    '    }',
  ].join('\n'));
  return [
    `    location = ${options.healthCheckPath ?? '/nginx-health'} {`,
    '      access_log off;',
    '      default_type text/plain;',
    "      return 200 'ok';",
    '    }',
    '',
    `    location ${options.apiPathPrefix ?? '/api/'} {`,
    `      ${proxyPass}`,
    '    }',
    ...exactLocations,
    '',
    '    location / {',
    '      try_files $uri $uri/ /index.html;',
    '    }',
  ];
}
