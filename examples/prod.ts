import { App, Stack } from 'aws-cdk-lib';
import { exampleEnv, PLACEHOLDER_API } from './common';
import { Preset, ThreeTierPlatform } from '../src';

const app = new App();
const stack = new Stack(app, 'ThreeTierProd', { env: exampleEnv(app) });

new ThreeTierPlatform(stack, 'Platform', {
  preset: Preset.prod(),
  projectName: 'cdk-three-tier-example',
  app: { source: PLACEHOLDER_API },
  web: {
    // Production requires HTTPS: set a domain and hosted zone (or a certificate) for a real deployment.
    // HTTP only is accepted here, explicitly, so the example synthesizes without a domain.
    allowHttpOnly: true,
  },
});

app.synth();
