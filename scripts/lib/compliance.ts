/**
 * cdk-nag compliance of the library: the scenarios checked, the four packs run on each, and the
 * README's compliance tables rendered from the results. test/compliance.test.ts asserts on the
 * same results.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { AppSource, AppTier, DataTier, NetworkTier, Preset, ThreeTierPlatform, WebTier } from '../../src';
import { ACKNOWLEDGEMENTS } from '../../src/private/compliance';

/** The four cdk-nag packs, in README order. */
export const PACKS = [
  { name: 'AwsSolutions', make: () => new AwsSolutionsChecks() },
  { name: 'NIST 800-53 R5', make: () => new NIST80053R5Checks() },
  { name: 'HIPAA Security', make: () => new HIPAASecurityChecks() },
  { name: 'PCI DSS 3.2.1', make: () => new PCIDSS321Checks() },
];

export interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

export interface PackResult {
  readonly pack: string;
  /** Findings left after the library's acknowledgements. */
  readonly reported: Finding[];
  /** Findings the acknowledgements suppressed. */
  readonly acknowledged: Finding[];
}

export interface Scenario {
  readonly name: string;
  /** prod-grade: zero findings of any severity; otherwise zero errors. */
  readonly strict: boolean;
  /** Builds the scenario and returns the subtree the packs check. */
  readonly build: () => IConstruct;
}

const ENV = { account: '123456789012', region: 'us-east-1' };
const API = AppSource.fromInline("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);");
const CERT_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

function stack(): Stack {
  return new Stack(new App(), 'Compliance', { env: ENV });
}

/**
 * The origin-facing CloudFront prefix list: a made-up ID, so the edge synthesizes without the lookup
 * (and without AWS credentials).
 */
const CLOUDFRONT_PREFIX_LIST = 'pl-3b927c52';

function platform(preset: Preset, extra: Partial<{ https: boolean; domain: boolean; bucket: boolean; edge: boolean }> = {}): IConstruct {
  const s = stack();
  const zone = route53.HostedZone.fromHostedZoneAttributes(s, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
  new ThreeTierPlatform(s, 'Platform', {
    preset,
    app: { source: API },
    web: extra.domain
      ? { domainName: 'shop.example.com', hostedZone: zone }
      : extra.https
        ? { certificate: acm.Certificate.fromCertificateArn(s, 'Cert', CERT_ARN) }
        : { allowHttpOnly: preset.name !== 'dev' },
    applicationBucket: extra.bucket ? { seedAssetPath: __dirname, seedPrefix: 'seed/' } : undefined,
    edge: extra.edge ? { originPrefixListId: CLOUDFRONT_PREFIX_LIST } : undefined,
  });
  return s;
}

/** Every scenario the compliance tests and the README table cover. */
export const SCENARIOS: Scenario[] = [
  { name: 'dev preset', strict: false, build: () => platform(Preset.dev()) },
  { name: 'staging preset', strict: false, build: () => platform(Preset.staging()) },
  { name: 'prod preset (domain: HTTPS everywhere)', strict: true, build: () => platform(Preset.prod(), { domain: true }) },
  { name: 'prod preset (imported certificate)', strict: true, build: () => platform(Preset.prod(), { https: true }) },
  { name: 'prod preset (domain, application bucket)', strict: true, build: () => platform(Preset.prod(), { domain: true, bucket: true }) },
  // The budget is on with every preset; the edge serves the domain through CloudFront.
  { name: 'prod preset with CloudFront edge and budget', strict: true, build: () => platform(Preset.prod(), { domain: true, edge: true }) },
  {
    name: 'NetworkTier alone',
    strict: false,
    build: () => new NetworkTier(stack(), 'Network'),
  },
  {
    name: 'WebTier alone',
    strict: false,
    build: () => {
      const s = stack();
      const network = new NetworkTier(s, 'Network');
      return new WebTier(s, 'Web', {
        vpc: network.vpc,
        instanceSubnets: network.webSubnets,
        loadBalancerSubnets: network.publicSubnets,
        apiEndpoint: 'api.internal.example:80',
      });
    },
  },
  {
    name: 'AppTier alone',
    strict: false,
    build: () => {
      const s = stack();
      const network = new NetworkTier(s, 'Network');
      return new AppTier(s, 'App', { vpc: network.vpc, vpcSubnets: network.appSubnets, source: API });
    },
  },
  {
    name: 'DataTier alone',
    strict: false,
    build: () => {
      const s = stack();
      const network = new NetworkTier(s, 'Network');
      return new DataTier(s, 'Data', { vpc: network.vpc, vpcSubnets: network.dataSubnets });
    },
  },
];

function findings(report: any): Finding[] {
  return (report.violations ?? []).flatMap((v: any) => v.violatingResources.map((r: any) => ({
    rule: v.ruleName,
    severity: v.severity ?? 'error',
    path: r.constructPath,
  })));
}

const key = (f: Finding) => `${f.rule}@${f.path}`;

/** Runs the four packs on a scenario: what is reported, and what the acknowledgements suppressed. */
export function runScenario(scenario: Scenario): PackResult[] {
  const scope = scenario.build();
  return PACKS.map(({ name, make }) => {
    const reported = findings(make().validateScope(scope));
    // The same pack with acknowledgements ignored gives every raw finding.
    const raw = make();
    Object.defineProperty(raw, 'isAcknowledged', { value: () => false });
    const reportedKeys = new Set(reported.map(key));
    const acknowledged = findings(raw.validateScope(scope)).filter((f) => !reportedKeys.has(key(f)));
    return { pack: name, reported, acknowledged };
  });
}

/** A rule's name without its pack prefix and finding suffix (IAM4, VPCNoUnrestrictedRouteToIGW, ...). */
export function ruleName(rule: string): string {
  return rule.replace(/\[.*$/, '').replace(/^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321)-/, '');
}

let cache: Map<string, PackResult[]> | undefined;
/** Results of every scenario, computed once per process. */
export function allResults(): Map<string, PackResult[]> {
  if (!cache) cache = new Map(SCENARIOS.map((s) => [s.name, runScenario(s)]));
  return cache;
}

/** README table: findings per scenario and pack (reported / acknowledged), and acknowledged rules. */
export function renderComplianceTable(): string {
  const lines = [
    `| Scenario | ${PACKS.map((p) => p.name).join(' | ')} | Distinct acknowledged rules |`,
    `| --- | ${PACKS.map(() => '---').join(' | ')} | --- |`,
  ];
  for (const [name, results] of allResults()) {
    const cells = results.map((r) => `${r.reported.length} open / ${r.acknowledged.length} acknowledged`);
    const rules = [...new Set(results.flatMap((r) => r.acknowledged.map((f) => ruleName(f.rule))))].sort();
    lines.push(`| ${name} | ${cells.join(' | ')} | ${rules.length}: ${rules.join(', ') || 'none'} |`);
  }
  return lines.join('\n');
}

/** README list of every acknowledgement the library can make, from the registry. */
export function renderAcknowledgements(): string {
  const lines = ['| Acknowledgement | Rules | Reason |', '| --- | --- | --- |'];
  for (const [name, ack] of Object.entries(ACKNOWLEDGEMENTS)) {
    const rules = [...new Set(ack.rules.map(ruleName))].join(', ');
    lines.push(`| \`${name}\` | ${rules} | ${ack.reason} |`);
  }
  return lines.join('\n');
}
