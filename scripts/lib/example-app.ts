/**
 * The example stacks of examples/<env>.ts, built again so that the deployment tests can synthesize
 * an update of them the way a user makes one: by passing different props.
 *
 *   npx cdk synth --app "npx ts-node --transpile-only scripts/lib/example-app.ts" -c example=dev [-c variant=update]
 *
 * Without `variant` it must synthesize exactly what examples/<env>.ts does; scripts/deploy-test.ts
 * checks that before every run, so this file cannot drift from the examples unnoticed.
 */
import { App, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { presetOf, STACK_NAMES, UPDATE_VARIANTS, type ExampleName } from './examples';
import { exampleEnv, PLACEHOLDER_API } from '../../examples/common';
import { ThreeTierPlatform } from '../../src';

const app = new App();
const example = app.node.tryGetContext('example') as ExampleName;
const variant = app.node.tryGetContext('variant') as string | undefined;
if (!['dev', 'staging', 'prod'].includes(example)) throw new Error(`context 'example' must be dev, staging or prod (got ${example})`);
if (variant !== undefined && variant !== 'update') throw new Error(`context 'variant' must be 'update' or absent (got ${variant})`);
const update = variant === 'update' ? UPDATE_VARIANTS[example] : undefined;

const stack = new Stack(app, STACK_NAMES[example], { env: exampleEnv(app) });

const platform = new ThreeTierPlatform(stack, 'Platform', {
  preset: presetOf(example),
  projectName: 'cdk-three-tier-example',
  app: {
    source: PLACEHOLDER_API,
    ...(update ? {
      instanceType: new ec2.InstanceType(update.appInstanceType),
      minCapacity: update.appMinCapacity,
      maxCapacity: update.appMaxCapacity,
    } : {}),
  },
  ...(example === 'dev' && !update ? {} : {
    web: {
      ...(example === 'dev' ? {} : { allowHttpOnly: true }),
      ...(update ? {
        instanceType: new ec2.InstanceType(update.webInstanceType),
        minCapacity: update.webMinCapacity,
        maxCapacity: update.webMaxCapacity,
      } : {}),
    },
  }),
});

if (update) {
  // A tag change on both fleets (propagated to their instances).
  for (const asg of [platform.web.autoScalingGroup, platform.app.autoScalingGroup]) {
    Tags.of(asg).add(update.tag.key, update.tag.value, { priority: 200 });
  }
}

app.synth();
