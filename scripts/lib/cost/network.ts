/**
 * Traffic: load balancers (hours, LCUs, public addresses, data out), NAT gateways and their
 * addresses, VPC endpoints, CloudFront, and the request counts each of them and each web ACL sees.
 */
import { CostLine, EstimateContext, Estimator, num } from './context';
import { Resource } from './template';

const LB = 'AWS::ElasticLoadBalancingV2::LoadBalancer';
const GB_PER_KB = 1e-6;

/** Whether the template puts CloudFront in front (then the load balancer's data out is CloudFront's). */
const hasCloudFront = (ctx: EstimateContext) => ctx.view.ofType('AWS::CloudFront::Distribution').length > 0;

/** Requests a load balancer serves per month: all of them if internet-facing, else the internal share. */
export function loadBalancerRequests(lb: Resource, ctx: EstimateContext): number {
  return ctx.use('requestsPerMonth') * (lb.props.Scheme === 'internal' ? ctx.use('internalShare') : 1);
}

/** Requests a web ACL inspects per month: CloudFront scope all, regional those of its load balancers. */
export function webAclRequests(acl: Resource, ctx: EstimateContext): number {
  if (acl.props.Scope === 'CLOUDFRONT') return ctx.use('requestsPerMonth');
  return ctx.view.ofType('AWS::WAFv2::WebACLAssociation')
    .filter((a) => ctx.view.target(a.props.WebACLArn)?.id === acl.id)
    .map((a) => ctx.view.target(a.props.ResourceArn))
    .reduce((sum, lb) => sum + (lb?.type === LB ? loadBalancerRequests(lb, ctx) : 0), 0);
}

/** The AZs (subnets) of a load balancer: one node and, if internet-facing, one public IPv4 address each. */
export function loadBalancerNodes(lb: Resource): number {
  return (lb.props.Subnets ?? lb.props.SubnetMappings ?? []).length;
}

export const estimateLoadBalancers: Estimator = (lbs, ctx) => lbs.flatMap((lb) => {
  if ((lb.props.Type ?? 'application') !== 'application') throw new Error(`${lb.id}: only application load balancers are priced`);
  const internet = lb.props.Scheme !== 'internal';
  const name = internet ? 'public ALB' : 'internal ALB';
  const requests = loadBalancerRequests(lb, ctx);
  const gb = requests * (ctx.use('responseKb') + ctx.use('requestKb')) * GB_PER_KB;
  const newConnPerSecond = (requests * ctx.use('newConnectionShare')) / (ctx.hours * 3600);
  const lcu = Math.max(gb / ctx.hours, newConnPerSecond / 25);
  const lines: CostLine[] = [
    ctx.line(LB, `${name}: hours`, ctx.hours, 'elb.albHour', 'all month'),
    ctx.line(LB, `${name}: LCUs`, lcu * ctx.hours, 'elb.lcuHour',
      `${num(lcu)} LCU on average: the larger of ${num(gb)} GB processed / ${ctx.hours} h (1 GB an hour per LCU) and ${num(newConnPerSecond)} new connections a second / 25; ` +
      `${num(requests)} requests (requestsPerMonth${internet ? '' : ' x internalShare'}) of responseKb + requestKb, newConnectionShare of them new; traffic spread evenly (peaks cost more)`),
  ];
  if (internet) {
    const nodes = loadBalancerNodes(lb);
    lines.push(ctx.line(LB, `${name}: public IPv4 addresses`, nodes * ctx.hours, 'ec2.publicIpv4', `one per AZ (${nodes}) all month`));
    if (!hasCloudFront(ctx)) {
      const out = ctx.use('requestsPerMonth') * ctx.use('responseKb') * GB_PER_KB;
      lines.push(ctx.line(LB, `${name}: data out to the internet`, out, 'ec2.dataTransferOut', `${num(ctx.use('requestsPerMonth'))} requests x ${ctx.use('responseKb')} KB (responseKb); the account's 100 GB free tier not applied`));
    }
  }
  return lines;
});

export const estimateNatGateways: Estimator = (gateways, ctx) => [
  ctx.line(gateways[0].type, 'NAT gateway: hours', gateways.length * ctx.hours, 'vpc.natGatewayHour', `${gateways.length} gateway(s) all month`),
  ctx.line(gateways[0].type, 'NAT gateway: data processed', ctx.use('natGb'), 'vpc.natGatewayGb', `${ctx.use('natGb')} GB a month (natGb) across all gateways`),
];

export const estimateElasticIps: Estimator = (ips, ctx) => [
  ctx.line(ips[0].type, 'public IPv4 address (Elastic IP)', ips.length * ctx.hours, 'ec2.publicIpv4', `${ips.length} address(es), in use all month`),
];

export const estimateVpcEndpoints: Estimator = (endpoints, ctx) => {
  const type = endpoints[0].type;
  const iface = endpoints.filter((e) => (e.props.VpcEndpointType ?? 'Gateway') === 'Interface');
  const gateways = endpoints.length - iface.length;
  const azHours = iface.reduce((sum, e) => sum + (e.props.SubnetIds ?? []).length, 0) * ctx.hours;
  const lines: CostLine[] = [];
  if (gateways > 0) lines.push(ctx.line(type, 'gateway endpoints (S3)', gateways, 'vpc.interfaceEndpointAzHour', 'gateway endpoints are free', 0, 'endpoint'));
  if (iface.length > 0) {
    lines.push(ctx.line(type, 'interface endpoints: AZ-hours', azHours, 'vpc.interfaceEndpointAzHour', `${iface.length} endpoints, one per subnet (AZ) each, all month`));
    lines.push(ctx.line(type, 'interface endpoints: data processed', ctx.use('endpointGb'), 'vpc.interfaceEndpointGb', `${ctx.use('endpointGb')} GB a month (endpointGb)`));
  }
  return lines;
};

export const estimateDistributions: Estimator = (distributions, ctx) => {
  const requests = ctx.use('requestsPerMonth');
  const out = requests * ctx.use('responseKb') * GB_PER_KB;
  const type = distributions[0].type;
  return [
    ctx.line(type, 'CloudFront: HTTPS requests', requests / 1e4, 'cloudfront.https10k', `${num(requests)} requests (requestsPerMonth) for ${distributions.length} distribution(s); the always-free tier not applied`, 1, '10,000 requests'),
    ctx.line(type, 'CloudFront: data out to viewers', out, 'cloudfront.dataTransferOut', `${num(requests)} requests x ${ctx.use('responseKb')} KB (responseKb); origin fetches from the load balancer are free`),
  ];
};
