import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { allResults, ruleName, SCENARIOS } from '../scripts/lib/compliance';
import { NetworkTier } from '../src';
import { ACKNOWLEDGEMENTS, PACK_PREFIXES } from '../src/private/compliance';

// cdk-nag 3 packs run through validateScope (the Validations plugin path needs aws-cdk-lib >= 2.276).
jest.setTimeout(120_000);

describe.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', (name, scenario) => {
  const results = () => allResults().get(name)!;

  test(scenario.strict ? 'zero unacknowledged findings in all four packs' : 'zero unacknowledged errors in all four packs', () => {
    const open = results().flatMap((r) => r.reported
      .filter((f) => scenario.strict || f.severity.toLowerCase() === 'error')
      .map((f) => `${f.rule} at ${f.path}`));
    expect(open).toEqual([]);
  });

  test('every acknowledgement comes from the library registry', () => {
    const tree = scenario.build();
    const tags = new Set<string>();
    const untagged: string[] = [];
    visit(tree, (c) => {
      for (const entry of c.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          // Only cdk-nag acknowledgements (aws-cdk-lib >= 2.27x records some of its own, e.g. CloudFormation-Validate::F3002).
          if (!PACK_PREFIXES.some((p) => id.replace(/^annotation::/i, '').startsWith(`${p}-`))) continue;
          const m = /^\[cdk-three-tier:([A-Za-z0-9]+)\]/.exec(reason);
          if (!m || !(m[1] in ACKNOWLEDGEMENTS)) untagged.push(`${id} on ${c.node.path}`);
          else tags.add(m[1]);
        }
      }
    });
    expect(untagged).toEqual([]);
    expect(tags.size).toBeGreaterThan(0);
  });
});

test('the prod preset with a domain acknowledges at most 15 distinct rules (14 controls)', () => {
  const results = allResults().get('prod preset (domain: HTTPS everywhere)')!;
  const rules = new Set(results.flatMap((r) => r.acknowledged.map((f) => ruleName(f.rule))));
  // S1 (AwsSolutions) and S3BucketLoggingEnabled (NIST/HIPAA/PCI) are one control: server access
  // logging of the access-log bucket itself. IAM5 is Session Manager on the instances: its channel
  // actions have no resource-level permissions ('*'), the agent's heartbeat acts on the instance.
  // L1, LambdaConcurrency, LambdaDLQ and LambdaInsideVPC are the two deploy-time functions that
  // create the app user (its handler and the custom resource provider). VPC3 is the network ACLs
  // themselves (AwsSolutions flags every ACL for review).
  const controls = new Set([...rules].map((r) => (r === 'S1' ? 'S3BucketLoggingEnabled' : r)));
  expect(controls.size).toBeLessThanOrEqual(14);
  expect(rules.size).toBeLessThanOrEqual(15);
});

test('a finding the library does not acknowledge is reported (the check can fail)', () => {
  // An open security group rule on a stack built from the library is still caught.
  const stack = new Stack(new App(), 'Negative', { env: { account: '123456789012', region: 'us-east-1' } });
  const network = new NetworkTier(stack, 'Network');
  const sg = new ec2.SecurityGroup(stack, 'Open', { vpc: network.vpc });
  sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
  const report = new AwsSolutionsChecks().validateScope(stack) as any;
  expect(report.violations.map((v: any) => v.ruleName)).toContain('AwsSolutions-EC23');
});

function visit(c: IConstruct, fn: (c: IConstruct) => void): void {
  fn(c);
  for (const child of c.node.children) visit(child, fn);
}
