import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Clients } from './aws';
import { DeployedStack, tierOf } from './inspect';
import { edgeText, groupLabels } from './sg-graph';

/** What the summary says about where the stack runs. */
export interface SummaryContext {
  readonly emulator: boolean;
  readonly appDescription: string;
  /** Lines about what the emulator does not run or model. */
  readonly emulatorNotes: string[];
}

/**
 * A summary a person wants to read: the site URL, each tier with its instances and subnets (CIDR
 * per AZ), the database endpoint (never the password) and the security-group graph as deployed.
 */
export async function renderSummary(
  c: Clients, template: any, outputs: Record<string, string>, d: DeployedStack, ctx: SummaryContext,
): Promise<string> {
  const lines: string[] = [];
  const out = (key: RegExp) => Object.entries(outputs).find(([k]) => key.test(k))?.[1];
  const subnetsOf = (tier: string) => d.subnets.filter((s) => s.tier === tier).map((s) => `${s.cidr} (${s.az})`).join(', ');

  // Load balancers, by tier
  const lbs = new Map<string, { dns: string; scheme: string; azs: string[] }>();
  const lbEntries = [...d.resources.entries()].filter(([, r]) => r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  if (lbEntries.length > 0) {
    const res = await c.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: lbEntries.map(([, r]) => r.physicalId) }));
    for (const [id, r] of lbEntries) {
      const lb = res.LoadBalancers?.find((x) => x.LoadBalancerArn === r.physicalId);
      if (lb) lbs.set(tierOf(template, id) ?? id, { dns: lb.DNSName ?? '', scheme: lb.Scheme ?? '', azs: (lb.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '') });
    }
  }

  const site = out(/SiteUrl/) ?? (lbs.get('web') ? `http://${lbs.get('web')!.dns}` : '(unknown)');
  lines.push(`Site URL     ${site}${ctx.emulator ? '   (emulated: the name does not resolve)' : ''}`);
  lines.push(`VPC          ${d.vpc?.id ?? '?'}  ${d.vpc?.cidr ?? ''}`);
  lines.push(`Public       load balancer subnets ${subnetsOf('Public')}`);
  for (const tier of ['web', 'app'] as const) {
    const f = d.fleets.find((x) => x.tier === tier);
    const lb = lbs.get(tier);
    const what = tier === 'web' ? 'NGINX (static site, proxies /api/ to the app tier)' : ctx.appDescription;
    lines.push('');
    lines.push(`${tier === 'web' ? 'Web tier' : 'App tier'}     ${what}`);
    if (f) {
      const healthy = f.instances.filter((i) => Object.values(f.targetHealth).every((h) => h[i.id] === 'healthy')).length;
      lines.push(`             ${f.instances.length} instance(s) of ${f.minSize}..${f.maxSize}, ${f.launchTemplate?.instanceType ?? '?'}, ${healthy} healthy in the target group, IMDSv2 ${f.launchTemplate?.httpTokens === 'required' ? 'required' : f.launchTemplate?.httpTokens}`);
    }
    lines.push(`             subnets ${subnetsOf(tier === 'web' ? 'Web' : 'App')}`);
    if (lb) lines.push(`             ${lb.scheme} load balancer ${lb.dns}`);
  }
  lines.push('');
  const db = d.database;
  if (db) {
    lines.push(`Data tier    ${db.engine} ${db.engineVersion} ${db.instanceClass}, ${db.multiAz ? 'Multi-AZ' : 'single-AZ'}, ${db.storageEncrypted ? 'encrypted (KMS)' : 'NOT encrypted'}, ${db.publiclyAccessible ? 'PUBLICLY ACCESSIBLE' : 'not publicly accessible'}`);
    lines.push(`             endpoint ${db.address}:${db.port}`);
    lines.push(`             subnets ${subnetsOf('Data')}`);
    const secret = out(/DatabaseSecretArn/);
    if (secret) {
      lines.push(`             credentials in Secrets Manager${/emulator-unmodelled/.test(secret) ? ' (not created in the emulator)' : `: ${secret}`} (password not shown)`);
    }
  }
  const bucket = [...d.resources.entries()].find(([id, r]) => r.type === 'AWS::S3::Bucket' && /ApplicationBucket/.test(id));
  if (bucket) lines.push(`App bucket   ${bucket[1].physicalId} (the app tier seeds it with the product images at boot)`);

  lines.push('');
  lines.push('Security groups, as deployed (who may open connections to whom):');
  const labels = groupLabels(template);
  // In the order traffic flows: internet, web ALB, web instances, app ALB, app instances, database.
  const order = ['internet', 'web ALB', 'web instances', 'app ALB', 'app instances', 'database'];
  const rank = (endpoint: string) => {
    const text = edgeText({ direction: 'ingress', source: endpoint, destination: endpoint, protocol: '-1', fromPort: -1, toPort: -1 }, labels);
    const i = order.findIndex((o) => text.startsWith(o));
    return i < 0 ? order.length : i;
  };
  const ingress = d.edges.filter((e) => e.direction === 'ingress')
    .sort((a, b) => rank(a.destination) - rank(b.destination) || rank(a.source) - rank(b.source));
  const width = Math.max(...ingress.map((e) => edgeText(e, labels).split('  ')[0].length), 0);
  for (const e of ingress) {
    const [pair, proto] = edgeText(e, labels).split('  ');
    lines.push(`  ${pair.padEnd(width)}  ${proto}`);
  }
  if (ctx.emulator) {lines.push('  (egress rules: not modelled by the emulator, which leaves every group its default allow-all egress)');} else {
    for (const e of d.edges.filter((x) => x.direction === 'egress')) lines.push(`  egress: ${edgeText(e, labels)}`);
  }
  if (ctx.emulatorNotes.length) {
    lines.push('');
    lines.push('Emulator:');
    for (const n of ctx.emulatorNotes) lines.push(`  ${n}`);
  }
  return lines.join('\n');
}
