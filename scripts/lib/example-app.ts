/**
 * The example stacks of examples/<env>.ts, built with the same `buildExample` so that the
 * deployment tests can synthesize an update of them the way a user makes one: by passing
 * different props.
 *
 *   npx cdk synth --app "npx ts-node --transpile-only scripts/lib/example-app.ts" -c example=dev [-c variant=update]
 *
 * Without `variant` it synthesizes exactly what examples/<env>.ts does. With `variant=update` it
 * changes only what `UPDATE_VARIANTS` lists; scripts/deploy-test.ts checks that before every run.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EDGE_VARIANT, EXAMPLES, UPDATE_VARIANTS, UpdateVariant, type ExampleName } from './examples';
import { buildExample, EXAMPLES as DEFINITIONS } from '../../examples/common';
import { ThreeTierPlatformProps } from '../../src';

/** The example's props with the update's instance types and capacities on both fleets. */
function withUpdate(props: ThreeTierPlatformProps, update: UpdateVariant): ThreeTierPlatformProps {
  return {
    ...props,
    app: {
      ...props.app,
      instanceType: new ec2.InstanceType(update.appInstanceType),
      minCapacity: update.appMinCapacity,
      maxCapacity: update.appMaxCapacity,
    },
    web: {
      ...props.web,
      instanceType: new ec2.InstanceType(update.webInstanceType),
      minCapacity: update.webMinCapacity,
      maxCapacity: update.webMaxCapacity,
    },
  };
}

const app = new App();
const example = app.node.tryGetContext('example') as ExampleName;
const variant = app.node.tryGetContext('variant') as string | undefined;
if (!EXAMPLES.includes(example)) throw new Error(`context 'example' must be one of ${EXAMPLES.join(', ')} (got ${example})`);
if (variant !== undefined && variant !== 'update' && variant !== 'edge') throw new Error(`context 'variant' must be 'update', 'edge' or absent (got ${variant})`);
if (variant === 'edge' && example !== EDGE_VARIANT.example) throw new Error(`variant 'edge' exists for ${EDGE_VARIANT.example} only (got ${example})`);

if (variant === 'edge') {
  // The example with a domain (HTTPS) and CloudFront in front, in a hosted zone the deployment
  // test creates in the emulator first (its ID comes in as context).
  const zoneId = app.node.tryGetContext('hostedZoneId') as string | undefined;
  if (!zoneId) throw new Error("variant 'edge' needs context 'hostedZoneId'");
  buildExample(app, example, (props) => {
    const scope = app.node.findChild(DEFINITIONS[example].stackName) as Stack;
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(scope, 'ExampleZone', { hostedZoneId: zoneId, zoneName: EDGE_VARIANT.zoneName });
    const { allowHttpOnly: _httpOnly, ...web } = props.web ?? {};
    return {
      ...props,
      web: { ...web, domainName: EDGE_VARIANT.domainName, hostedZone },
      edge: { originPrefixListId: EDGE_VARIANT.originPrefixListId },
    };
  });
} else if (variant === 'update') {
  const update = UPDATE_VARIANTS[example];
  const { platform } = buildExample(app, example, (props) => withUpdate(props, update));
  // A tag change on both fleets (propagated to their instances).
  for (const asg of [platform.web.autoScalingGroup, platform.app.autoScalingGroup]) {
    Tags.of(asg).add(update.tag.key, update.tag.value, { priority: 200 });
  }
} else {
  buildExample(app, example);
}

app.synth();
