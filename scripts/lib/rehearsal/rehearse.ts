import { Clients } from '../aws';
import {
  APP_WRITES, checkAgentConfig, checkEnvironmentFile, checkFiles, checkNginx, checkRenderers, checkRsyslog, checkSeed, checkService, checkSignal,
  checkUnits, checkWrites, IntendedFile, intendedFiles, parseEnvironmentFile, unitRecord, WEB_WRITES,
} from './checks';
import { RehearsedInstance } from './instance';
import { MetadataIdentity, RehearsalNetwork } from './network';
import { fleetsOf, resolvedUserData, TemplateFleet, tokenValuesFromStack, TokenValues, userDataNode } from './resolve';
import { APP_PATHS, renderAppLogrotate, renderAppLogRule, renderAppUnit, renderStartScript } from '../../../src/app/boot';
import { nginxLogPaths, SYSTEM_LOG_PATH } from '../../../src/private/cloudwatch-agent';
import { RERESOLVE_SERVICE, RERESOLVE_TIMER, WEB_PATHS } from '../../../src/web/boot';

/**
 * Rehearses both fleets of a deployed three-tier stack: the app fleet's user data first, in an
 * instance with the internal load balancer in front of it, then the web fleet's, in an instance
 * linked to it; then checks what an instance on AWS would have (checks.ts).
 */

/** Where the rehearsed internal load balancer answers, in the rehearsal's VPC. */
export const APP_LOAD_BALANCER_ADDRESS = '169.254.201.1';

/** A fleet's place in the template: launch template, Auto Scaling Group, target group and listener. */
export interface FleetLayout extends TemplateFleet {
  readonly tier: 'web' | 'app';
  readonly targetPort: number;
  readonly healthCheckPath: string;
  /** The load balancer in front of the fleet and its listener port. */
  readonly loadBalancerId: string;
  readonly listenerPort: number;
}

/** The layout of a platform's two fleets, read from its template. */
export function platformLayout(template: any): { web: FleetLayout; app: FleetLayout } {
  const resources: Record<string, any> = template.Resources;
  const layouts = fleetsOf(template).map((f) => {
    const asg = resources[f.autoScalingGroupId].Properties;
    const tgId = asg.TargetGroupARNs?.[0]?.Ref;
    const tg = resources[tgId]?.Properties;
    if (!tg) throw new Error(`${f.autoScalingGroupId} is in no target group of the template`);
    const listener = Object.values<any>(resources).find((r) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener'
      && (r.Properties.DefaultActions ?? []).some((a: any) => a.TargetGroupArn?.Ref === tgId));
    if (!listener) throw new Error(`no listener forwards to ${tgId}`);
    return { ...f, targetPort: tg.Port, healthCheckPath: tg.HealthCheckPath ?? '/', loadBalancerId: listener.Properties.LoadBalancerArn.Ref, listenerPort: listener.Properties.Port };
  });
  // The web fleet's user data names the load balancer in front of the app fleet.
  const calls = (a: typeof layouts[0], b: typeof layouts[0]) => JSON.stringify(userDataNode(template, a.launchTemplateId)).includes(`"${b.loadBalancerId}","DNSName"`);
  const web = layouts.find((a) => layouts.some((b) => b !== a && calls(a, b)));
  const app = layouts.find((b) => web && b !== web && calls(web, b));
  if (layouts.length !== 2 || !web || !app) throw new Error(`expected a web fleet calling an app fleet, found ${layouts.length} fleets`);
  return { web: { ...web, tier: 'web' }, app: { ...app, tier: 'app' } };
}

/** The result of one check. */
export interface CheckOutcome {
  readonly name: string;
  readonly problems: string[];
}

/** One rehearsed fleet. */
export interface FleetOutcome {
  readonly tier: 'web' | 'app';
  readonly exitCode: number;
  readonly durationMs: number;
  readonly output: string;
  readonly checks: CheckOutcome[];
  readonly userData: string;
}

export interface PlatformRehearsalOptions {
  /** A label, e.g. the example's name. */
  readonly name: string;
  readonly clients: Clients;
  /** The emulator's endpoint (what the instances' `aws` talks to). */
  readonly endpoint: string;
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly stackId: string;
  /** The synthesized template (as the instances' user data was synthesized, not the emulator's copy). */
  readonly template: any;
  /** Token values; read from the deployment when not given. */
  readonly values?: TokenValues;
  /** The app's environment as the library means it, tokens resolved: checked against systemd's parse of the env file. */
  readonly intendedEnvironment?: Record<string, string>;
  /** The app's start command (its start script and unit are compared with the renderers). */
  readonly startCommand?: string;
  /** A path under the API prefix that the app answers itself: NGINX must return what the app returns. */
  readonly apiProbePath?: string;
  /** The seed the app fleet copies into the application bucket: files (relative path → size) under a prefix. */
  readonly seed?: { readonly bucket: string; readonly prefix: string; readonly files: Map<string, number> };
  /**
   * Changes the resolved user data before it runs, to show that a broken boot step fails the
   * rehearsal (tests only). The checks still compare with what the unchanged user data writes.
   */
  readonly breakUserData?: (tier: 'web' | 'app', userData: string) => string;
  /** Rehearse only one fleet (the platform checks across both are then skipped). */
  readonly only?: 'web' | 'app';
  /** Keep the instances running (the caller stops them). */
  readonly keep?: boolean;
}

export interface PlatformRehearsal {
  readonly web?: FleetOutcome;
  readonly app?: FleetOutcome;
  /** Checks across the two instances: NGINX in front of the app, the load balancer's health check. */
  readonly platform: CheckOutcome[];
  readonly instances: { readonly web?: RehearsedInstance; readonly app?: RehearsedInstance };
  readonly network: RehearsalNetwork;
}

/** Ends the instances and the VPC of a rehearsal run with `keep`. */
export async function stopRehearsal(r: PlatformRehearsal): Promise<void> {
  await r.instances.web?.stop();
  await r.instances.app?.stop();
  r.network.stop();
}

/** Every problem of a rehearsal, one line each (empty: the rehearsal passed). */
export function rehearsalProblems(r: PlatformRehearsal): string[] {
  const lines: string[] = [];
  for (const f of [r.app, r.web]) {
    for (const c of f?.checks ?? []) for (const p of c.problems) lines.push(`${f!.tier}: ${c.name}: ${p}`);
  }
  for (const c of r.platform) for (const p of c.problems) lines.push(`platform: ${c.name}: ${p}`);
  return lines;
}

function identity(tier: string, n: number): Omit<MetadataIdentity, 'launchTime'> {
  return {
    instanceId: `i-0rehearsal${tier}${String(n).padStart(4, '0')}`.slice(0, 19),
    roleName: `${tier}-instance-role`,
    availabilityZone: 'us-east-1a',
    imageId: 'ami-0rehearsal00000000',
    instanceType: 't3.micro',
  };
}

let instanceCounter = 0;

/** Rehearses the app fleet, then the web fleet, of a deployed platform, and checks both. */
export async function rehearsePlatform(o: PlatformRehearsalOptions): Promise<PlatformRehearsal> {
  const layout = platformLayout(o.template);
  const values = o.values ?? await tokenValuesFromStack(o.clients, o.stackName, o.stackId,
    [userDataNode(o.template, layout.web.launchTemplateId), userDataNode(o.template, layout.app.launchTemplateId)],
    { account: o.account, region: o.region });
  const intended = (f: FleetLayout) => resolvedUserData(o.template, f.launchTemplateId, values);
  const script = (f: FleetLayout) => (o.breakUserData ? o.breakUserData(f.tier, intended(f)) : intended(f));
  const appLbDns = values.getAtts[`${layout.app.loadBalancerId}.DNSName`];
  // The physical names of the stack's log groups: where the agents may ship files.
  const logGroups = new Set(Object.entries<any>(o.template.Resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup').map(([id]) => values.refs[id]));
  const instances: { web?: RehearsedInstance; app?: RehearsedInstance } = {};
  // The app instance is the first one linked to the VPC: the internal load balancer forwards to it.
  const network = await RehearsalNetwork.start({
    awsEndpoint: o.endpoint,
    region: o.region,
    accountId: o.account,
    loadBalancers: [{
      address: APP_LOAD_BALANCER_ADDRESS,
      port: layout.app.listenerPort,
      target: { host: RehearsalNetwork.instanceAddress(0), port: layout.app.targetPort },
    }],
  });
  try {
    let app: FleetOutcome | undefined;
    let web: FleetOutcome | undefined;
    if (o.only !== 'web') {
      instances.app = await RehearsedInstance.boot({ name: `${o.name} app`, userData: script(layout.app), network, identity: identity('app', ++instanceCounter) });
      if (instances.app.address !== RehearsalNetwork.instanceAddress(0)) throw new Error('the app instance did not get the load balancer\'s target address');
      app = await checkApp(o, layout.app, instances.app, intended(layout.app), logGroups);
    }
    if (o.only !== 'app') {
      instances.web = await RehearsedInstance.boot({
        name: `${o.name} web`,
        userData: script(layout.web),
        network,
        identity: identity('web', ++instanceCounter),
        hosts: appLbDns ? { [appLbDns]: APP_LOAD_BALANCER_ADDRESS } : {},
      });
      web = await checkWeb(o, layout.web, instances.web, intended(layout.web), logGroups);
    }
    const platform: CheckOutcome[] = [];
    if (instances.app && instances.web) {
      const lb = instances.web.httpGet(`http://${APP_LOAD_BALANCER_ADDRESS}:${layout.app.listenerPort}${layout.app.healthCheckPath}`);
      platform.push({
        name: `the internal load balancer's health check (${layout.app.healthCheckPath} on port ${layout.app.targetPort}) answers from the web instance`,
        problems: lb.status >= 200 && lb.status < 400 ? [] : [`HTTP ${lb.status} ${lb.error ?? lb.body.slice(0, 200)}`],
      });
      if (o.apiProbePath) {
        const direct = instances.app.httpGet(`http://127.0.0.1:${layout.app.targetPort}${o.apiProbePath}`);
        const proxied = instances.web.httpGet(`http://127.0.0.1:${layout.web.targetPort}${o.apiProbePath}`);
        platform.push({
          name: `NGINX passes ${o.apiProbePath} to the app through the load balancer`,
          problems: direct.status === 0 ? [`the app does not answer ${o.apiProbePath}: ${direct.error}`]
            : proxied.status !== direct.status || proxied.body !== direct.body
              ? [`through NGINX: HTTP ${proxied.status} ${proxied.body.slice(0, 200)}; from the app: HTTP ${direct.status} ${direct.body.slice(0, 200)}`] : [],
        });
      }
    }
    return { web, app, platform, instances, network };
  } finally {
    if (!o.keep) {
      await instances.web?.stop();
      await instances.app?.stop();
      network.stop();
    }
  }
}

function outcome(tier: 'web' | 'app', instance: RehearsedInstance, checks: CheckOutcome[]): FleetOutcome {
  return { tier, exitCode: instance.exitCode, durationMs: instance.durationMs, output: instance.output, checks, userData: instance.shareFile('user-data') ?? '' };
}

function exitCheck(instance: RehearsedInstance): CheckOutcome {
  const tail = instance.output.split('\n').slice(-15).join('\n');
  return { name: 'the user data exits 0', problems: instance.exitCode === 0 ? [] : [`exit ${instance.exitCode}; last output:\n${tail}`] };
}

async function checkApp(
  o: PlatformRehearsalOptions, f: FleetLayout, instance: RehearsedInstance, intendedUserData: string, logGroups: Set<string>,
): Promise<FleetOutcome> {
  const files = intendedFiles(intendedUserData);
  const checks: CheckOutcome[] = [exitCheck(instance)];
  checks.push({ name: 'every file the user data writes is on the instance, byte for byte, with its owner and mode', problems: checkFiles(instance, files) });
  const rendered: Record<string, string> = {
    [APP_PATHS.unit]: renderAppUnit(), [APP_PATHS.rsyslogRule]: renderAppLogRule(), [APP_PATHS.logrotate]: renderAppLogrotate(),
  };
  if (o.startCommand !== undefined) rendered[APP_PATHS.startScript] = renderStartScript(o.startCommand);
  checks.push({ name: 'the unit, start script, rsyslog rule and logrotate file are what the renderers produce', problems: checkRenderers(files, rendered) });
  checks.push(...telemetryChecks(instance, files, [SYSTEM_LOG_PATH, APP_PATHS.logFile], logGroups));
  checks.push({ name: 'systemd-analyze verify passes for the units', problems: checkUnits(instance, unitFiles(files)) });
  if (o.intendedEnvironment) {
    checks.push({ name: 'the env file parses with systemd\'s parser to exactly the intended values', problems: checkEnvironmentFile(instance, APP_PATHS.environmentFile, o.intendedEnvironment) });
  }
  const record = unitRecord(instance, 'app.service');
  // What systemd gives the process: Environment= of the unit, then the env file as systemd parses it.
  const parsedEnv = instance.stat(APP_PATHS.environmentFile)
    ? Object.fromEntries(parseEnvironmentFile(instance, APP_PATHS.environmentFile).entries) : {};
  checks.push({
    name: 'the app runs from the unit\'s ExecStart=, as its User=, in its WorkingDirectory=, with the unit\'s environment',
    problems: checkService(instance, 'app.service', {
      user: 'app',
      cwd: APP_PATHS.appDirectory,
      argv: ['/bin/sh', APP_PATHS.startScript],
      environment: { PATH: /^Environment=PATH=(.*)$/m.exec(renderAppUnit())![1], ...parsedEnv },
    }),
  });
  const health = instance.httpGet(`http://127.0.0.1:${f.targetPort}${f.healthCheckPath}`);
  checks.push({ name: `the app answers its health check (${f.healthCheckPath} on port ${f.targetPort})`, problems: health.status === 200 ? [] : [`HTTP ${health.status} ${health.error ?? ''}`] });
  if (o.seed) checks.push({ name: `the seed is in s3://${o.seed.bucket}/${o.seed.prefix}`, problems: await checkSeed(o.clients.s3, o.seed.bucket, o.seed.prefix, o.seed.files) });
  checks.push({ name: 'one SUCCESS signal for the app Auto Scaling Group', problems: checkSignal(instance, o.stackName, f.autoScalingGroupId) });
  checks.push({ name: 'nothing written outside the app tier\'s paths, /tmp left empty', problems: checkWrites(instance, APP_WRITES) });
  if (record?.notApplied?.length) {
    // Not a problem: recorded so that reports can say what the stand-in did not enforce.
    checks.push({ name: `not enforced by the systemctl stand-in: ${record.notApplied.join(', ')}`, problems: [] });
  }
  return outcome('app', instance, checks);
}

async function checkWeb(
  o: PlatformRehearsalOptions, f: FleetLayout, instance: RehearsedInstance, intendedUserData: string, logGroups: Set<string>,
): Promise<FleetOutcome> {
  const files = intendedFiles(intendedUserData);
  const checks: CheckOutcome[] = [exitCheck(instance)];
  checks.push({ name: 'every file the user data writes is on the instance, byte for byte, with its owner and mode', problems: checkFiles(instance, files) });
  checks.push({
    name: 'the re-resolve service and timer are what the renderers produce',
    problems: checkRenderers(files, { [WEB_PATHS.reresolveService]: RERESOLVE_SERVICE, [WEB_PATHS.reresolveTimer]: RERESOLVE_TIMER }),
  });
  checks.push({ name: 'systemd-analyze verify passes for the units (and the nginx package\'s)', problems: checkUnits(instance, [...unitFiles(files), '/usr/lib/systemd/system/nginx.service']) });
  const config = files.find((x) => x.path === WEB_PATHS.nginxConfig);
  checks.push({ name: 'NGINX runs, started by its unit, from the written configuration', problems: config ? checkNginx(instance, config.content) : [`the user data writes no ${WEB_PATHS.nginxConfig}`] });
  const nginxLogs = nginxLogPaths(config?.content.toString('utf8') ?? '');
  checks.push(...telemetryChecks(instance, files, [SYSTEM_LOG_PATH, ...nginxLogs.accessLogs, ...nginxLogs.errorLogs], logGroups));
  const health = instance.httpGet(`http://127.0.0.1:${f.targetPort}${f.healthCheckPath}`);
  checks.push({ name: `NGINX answers the public load balancer's health check (${f.healthCheckPath})`, problems: health.status === 200 ? [] : [`HTTP ${health.status} ${health.error ?? ''}`] });
  const timer = unitRecord(instance, 'nginx-reresolve.timer');
  checks.push({ name: 'the re-resolve timer is enabled and waiting', problems: timer?.enabled && timer?.state === 'active (waiting)' ? [] : [`nginx-reresolve.timer: ${JSON.stringify(timer)}`] });
  checks.push({ name: 'one SUCCESS signal for the web Auto Scaling Group', problems: checkSignal(instance, o.stackName, f.autoScalingGroupId) });
  checks.push({ name: 'nothing written outside the web tier\'s paths, /tmp left empty', problems: checkWrites(instance, WEB_WRITES) });
  return outcome('web', instance, checks);
}

/** The CloudWatch agent's configuration (the system log and the tier's files) and rsyslog. */
function telemetryChecks(instance: RehearsedInstance, files: IntendedFile[], shipped: string[], logGroups: Set<string>): CheckOutcome[] {
  return [
    {
      name: `the agent configuration is what renderAgentConfig renders for ${shipped.join(', ')}, each to a log group of the stack, and the agent loaded it`,
      problems: checkAgentConfig(instance, files, shipped, logGroups),
    },
    { name: 'rsyslog runs from its unit and accepts its configuration (rsyslogd -N1)', problems: checkRsyslog(instance) },
  ];
}

function unitFiles(files: IntendedFile[]): string[] {
  return files.map((f) => f.path).filter((p) => /\.(service|timer)$/.test(p));
}
