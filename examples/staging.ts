import { App, Stack } from 'aws-cdk-lib';
import { exampleEnv, PLACEHOLDER_API } from './common';
import { Preset, ThreeTierPlatform } from '../src';

const app = new App();
const stack = new Stack(app, 'ThreeTierStaging', { env: exampleEnv(app) });

new ThreeTierPlatform(stack, 'Platform', {
  preset: Preset.staging(),
  projectName: 'cdk-three-tier-example',
  app: { source: PLACEHOLDER_API },
  web: {
    // Staging without a certificate serves HTTP and says so with a warning; acknowledge it explicitly.
    allowHttpOnly: true,
  },
});

app.synth();
