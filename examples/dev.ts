import { App, Stack } from 'aws-cdk-lib';
import { exampleEnv, PLACEHOLDER_API } from './common';
import { Preset, ThreeTierPlatform } from '../src';

const app = new App();
const stack = new Stack(app, 'ThreeTierDev', { env: exampleEnv(app) });

new ThreeTierPlatform(stack, 'Platform', {
  preset: Preset.dev(),
  projectName: 'cdk-three-tier-example',
  app: { source: PLACEHOLDER_API },
});

app.synth();
