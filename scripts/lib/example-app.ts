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
import { App, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EXAMPLES, UPDATE_VARIANTS, UpdateVariant, type ExampleName } from './examples';
import { buildExample } from '../../examples/common';
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
if (variant !== undefined && variant !== 'update') throw new Error(`context 'variant' must be 'update' or absent (got ${variant})`);

if (variant === 'update') {
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
