import { shellArg, writeFileCommands } from '../private/shell';
import { renderUnit } from '../private/systemd';

/** Where the web tier's instances keep what the library writes. */
export const WEB_PATHS = {
  nginxConfig: '/etc/nginx/nginx.conf',
  siteRoot: '/usr/share/nginx/html',
  placeholderPage: '/usr/share/nginx/html/index.html',
  reresolveService: '/etc/systemd/system/nginx-reresolve.service',
  reresolveTimer: '/etc/systemd/system/nginx-reresolve.timer',
};

/** The page served when no site is given. */
export const PLACEHOLDER_PAGE = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cdk-three-tier</title></head>'
  + '<body><h1>It works</h1><p>Served by the web tier of cdk-three-tier.</p></body></html>\n';

/** What the web tier's boot steps are made of. */
export interface WebBootOptions {
  /** The rendered NGINX configuration (may hold tokens that stand for AWS-generated names). */
  readonly nginxConfig: string;
  /** The static site's S3 object, if any. */
  readonly site?: { readonly bucketName: string; readonly objectKey: string };
  /** NGINX's own health check path (already validated). */
  readonly healthCheckPath: string;
}

/**
 * The web tier's boot steps: install NGINX, put the site in place, write the configuration (checked
 * with `nginx -t` before NGINX starts), start NGINX, and install a timer that reloads it to re-resolve
 * the internal load balancer's addresses. Every file is written with `writeFileCommands` and every
 * value on a command line goes through `shellArg`.
 */
export function renderWebBootCommands(options: WebBootOptions): string[] {
  const site = options.site
    ? [
      `aws s3 cp ${shellArg(`s3://${options.site.bucketName}/${options.site.objectKey}`)} /tmp/site.zip --only-show-errors`,
      `find ${WEB_PATHS.siteRoot} -mindepth 1 -delete`,
      `unzip -o -q /tmp/site.zip -d ${WEB_PATHS.siteRoot}`,
      'rm -f /tmp/site.zip',
    ]
    : writeFileCommands({ path: WEB_PATHS.placeholderPage, content: PLACEHOLDER_PAGE, mode: '0644' });
  return [
    'dnf install -y nginx unzip',
    ...site,
    ...writeFileCommands({ path: WEB_PATHS.nginxConfig, content: options.nginxConfig, mode: '0644' }),
    'nginx -t',
    'systemctl enable --now nginx',
    // The internal ALB's addresses change over time: reload (gracefully) to re-resolve them.
    ...writeFileCommands({ path: WEB_PATHS.reresolveService, content: RERESOLVE_SERVICE, mode: '0644' }),
    ...writeFileCommands({ path: WEB_PATHS.reresolveTimer, content: RERESOLVE_TIMER, mode: '0644' }),
    'systemctl daemon-reload',
    'systemctl enable --now nginx-reresolve.timer',
    `curl -fsS --retry 10 --retry-delay 3 --retry-connrefused ${shellArg(`http://127.0.0.1${options.healthCheckPath}`)}`,
  ];
}

/** Reloads NGINX so it resolves the upstream host names again. */
export const RERESOLVE_SERVICE = renderUnit([
  ['Unit', [['Description', 'Reload NGINX to re-resolve upstream addresses']]],
  ['Service', [['Type', 'oneshot'], ['ExecStart', '/usr/bin/systemctl reload nginx']]],
]);

/** Runs the reload every 5 minutes. */
export const RERESOLVE_TIMER = renderUnit([
  ['Unit', [['Description', 'Re-resolve NGINX upstreams every 5 minutes']]],
  ['Timer', [['OnUnitActiveSec', '5min'], ['OnBootSec', '5min']]],
  ['Install', [['WantedBy', 'timers.target']]],
]);
