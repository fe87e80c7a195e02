/**
 * The demo's CDK app: the dev preset with the reference store app when it is there
 * (integ/store-app: run `node integ/store-app/bundle.mjs` first), otherwise the examples'
 * placeholder API. Same account, region and AZ handling as examples/common.ts.
 *
 *   npx cdk synth --app "npx ts-node --transpile-only scripts/demo-app.ts"
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { exampleEnv, PLACEHOLDER_API } from '../examples/common';
import { AppSource, Preset, ThreeTierPlatform } from '../src';

/** Stack name of the demo. */
export const DEMO_STACK_NAME = 'ThreeTierDemo';

const STORE = path.join(__dirname, '..', 'integ', 'store-app');
/** The parts of the store app the demo uses, relative to the repository root. */
export const STORE_PARTS = {
  app: path.join(STORE, 'dist', 'app'),
  server: path.join(STORE, 'dist', 'app', 'server.js'),
  web: path.join(STORE, 'web'),
  images: path.join(STORE, 'images'),
};

/** Whether the store app (bundle, static site and images) is there. */
export function storeAppAvailable(): boolean {
  return fs.existsSync(STORE_PARTS.server) && fs.existsSync(path.join(STORE_PARTS.web, 'index.html'))
    && fs.existsSync(STORE_PARTS.images) && fs.readdirSync(STORE_PARTS.images).some((f) => f.endsWith('.svg'));
}

if (require.main === module) {
  const app = new App();
  const stack = new Stack(app, DEMO_STACK_NAME, { env: exampleEnv(app) });
  const store = storeAppAvailable();
  new ThreeTierPlatform(stack, 'Platform', {
    preset: Preset.dev(),
    projectName: 'cdk-three-tier-demo',
    app: store
      ? {
        source: AppSource.fromAsset(STORE_PARTS.app),
        environment: { DB_TLS: 'required' },
        // `/healthz` answers as soon as the process runs; `/readyz` (public) once the database is usable.
        publicPaths: ['/readyz'],
      }
      : { source: PLACEHOLDER_API },
    web: store ? { siteAssetPath: STORE_PARTS.web } : undefined,
    applicationBucket: store ? { seedAssetPath: STORE_PARTS.images, seedPrefix: 'products/' } : undefined,
  });
  app.synth();
}
