import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { deriveGraph, formatEdge, GraphFeatures, intendedGraph } from '../scripts/lib/sg-graph';
import { AppSource, Preset, ThreeTierPlatform } from '../src';

const ENV = { account: '123456789012', region: 'us-east-1' };

function build(preset: Preset, domain: boolean): { stack: Stack; platform: ThreeTierPlatform } {
  const stack = new Stack(new App(), 'Graph', { env: ENV });
  const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789', zoneName: 'example.com' });
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset,
    app: { source: AppSource.fromInline("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);") },
    web: domain ? { domainName: 'shop.example.com', hostedZone } : { allowHttpOnly: true },
  });
  return { stack, platform };
}

const CASES: Array<[string, () => Preset, boolean, GraphFeatures]> = [
  ['dev', Preset.dev, false, { https: false, internalTls: false, endpoints: false, natInstance: true }],
  ['staging', Preset.staging, false, { https: false, internalTls: false, endpoints: false, natInstance: false }],
  ['prod (HTTP only, allowed)', Preset.prod, false, { https: false, internalTls: false, endpoints: true, natInstance: false }],
  ['prod with a domain', Preset.prod, true, { https: true, internalTls: true, endpoints: true, natInstance: false }],
];

describe('security-group graph equals the intended graph, edge for edge', () => {
  test.each(CASES)('%s', (_name, preset, domain, features) => {
    const { stack } = build(preset(), domain);
    const actual = deriveGraph(Template.fromStack(stack).toJSON()).map(formatEdge);
    expect(actual).toEqual(intendedGraph(features).map(formatEdge));
  });
});

test('an extra rule is caught as an extra edge', () => {
  const { stack, platform } = build(Preset.dev(), false);
  platform.data.connections.allowFrom(platform.web.autoScalingGroup, ec2.Port.tcp(3306));
  const actual = deriveGraph(Template.fromStack(stack).toJSON()).map(formatEdge);
  const intended = intendedGraph({ https: false, internalTls: false, endpoints: false, natInstance: true }).map(formatEdge);
  expect(actual.filter((e) => !intended.includes(e))).toEqual(['web instances -> database tcp/3306 [ingress+egress]']);
});

test('no SSH ingress and no ingress from the internet except to the public ALB', () => {
  for (const [, preset, domain] of CASES) {
    const { stack } = build(preset(), domain);
    const edges = deriveGraph(Template.fromStack(stack).toJSON());
    expect(edges.filter((e) => e.port === 'tcp/22' || (e.port === 'all' && e.ingress))).toEqual([]);
    expect(edges.filter((e) => e.from === 'internet').map((e) => e.to)).toEqual(expect.arrayContaining(['public ALB']));
    expect(new Set(edges.filter((e) => e.from === 'internet').map((e) => e.to))).toEqual(new Set(['public ALB']));
  }
});
