import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AppSource, Preset, ThreeTierPlatform } from '../src';

const STORE = path.join(__dirname, 'store-app');
const PRODUCTS = ['red-mug', 'blue-shirt', 'notepad', 'headphones', 'bottle', 'backpack'];

/**
 * Deploys the full platform with the reference store app and asserts, on a real deployment, what a
 * user sees: six products, a purchase, readiness, a private database and healthy targets.
 * (`npx projen integ:bundle` builds the app bundle first.)
 */
export function storeIntegTest(name: string, preset: Preset): App {
  const app = new App();
  const stack = new Stack(app, `ThreeTierStore${name}`);
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset,
    projectName: 'cdk-three-tier-integ',
    // Environment-agnostic integ stacks get 2 AZs; the prod preset's 3rd AZ needs a concrete account.
    network: { maxAzs: 2 },
    app: {
      source: AppSource.fromAsset(path.join(STORE, 'dist', 'app')),
      environment: { DB_TLS: 'required' },
      publicPaths: ['/readyz'],
    },
    // No domain in the integ account: HTTP only, accepted explicitly.
    web: { siteAssetPath: path.join(STORE, 'web'), allowHttpOnly: true },
    applicationBucket: { seedAssetPath: path.join(STORE, 'images'), seedPrefix: 'products/' },
  });

  const integ = new IntegTest(app, `Store${name}Integ`, {
    testCases: [stack],
    regions: ['us-east-1'],
    stackUpdateWorkflow: false,
  });
  const url = platform.siteUrl;
  const retry = { totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) };

  integ.assertions.httpApiCall(`${url}/api/products`).expect(ExpectedResult.objectLike({
    status: 200,
    body: { products: Match.arrayWith(PRODUCTS.map((id) => Match.objectLike({ id }))) },
  })).waitForAssertions(retry);

  integ.assertions.httpApiCall(`${url}/api/orders`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ productId: 'notepad', quantity: 1, email: 'integ@example.com' }),
  }).expect(ExpectedResult.objectLike({ status: 201, body: Match.objectLike({ productId: 'notepad', quantity: 1 }) }));

  integ.assertions.httpApiCall(`${url}/readyz`).expect(ExpectedResult.objectLike({ status: 200 }));

  integ.assertions.awsApiCall('@aws-sdk/client-rds', 'DescribeDBInstances', {
    DBInstanceIdentifier: platform.data.database.instanceIdentifier,
  }).expect(ExpectedResult.objectLike({
    DBInstances: Match.arrayWith([Match.objectLike({ PubliclyAccessible: false, StorageEncrypted: true })]),
  }));

  for (const targetGroup of [platform.web.targetGroup, platform.app.targetGroup]) {
    integ.assertions.awsApiCall('@aws-sdk/client-elastic-load-balancing-v2', 'DescribeTargetHealth', {
      TargetGroupArn: targetGroup.targetGroupArn,
    }).expect(ExpectedResult.objectLike({
      TargetHealthDescriptions: Match.arrayWith([Match.objectLike({ TargetHealth: { State: 'healthy' } })]),
    })).waitForAssertions(retry);
  }
  return app;
}
