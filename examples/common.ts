import { App, StackProps } from 'aws-cdk-lib';
import { AppSource } from '../src';

/**
 * Account and region of the example stacks: yours when the CDK CLI knows them, otherwise a
 * placeholder account in us-east-1 with that region's AZs, so the examples synthesize offline.
 */
export function exampleEnv(app: App): StackProps['env'] {
  const account = process.env.CDK_DEFAULT_ACCOUNT ?? '123456789012';
  const region = process.env.CDK_DEFAULT_REGION ?? 'us-east-1';
  const key = `availability-zones:account=${account}:region=${region}`;
  if (!process.env.CDK_DEFAULT_ACCOUNT && app.node.tryGetContext(key) === undefined) {
    app.node.setContext(key, ['a', 'b', 'c'].map((z) => `${region}${z}`));
  }
  return { account, region };
}

/**
 * A placeholder API: answers its health check and `GET /api/hello`.
 */
export const PLACEHOLDER_API = AppSource.fromInline(`
const http = require('http');
const port = Number(process.env.PORT || 8080);
http.createServer((req, res) => {
  const body = req.url === '/healthz' ? { status: 'ok' } : req.url === '/api/hello' ? { hello: 'world' } : undefined;
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body ?? { error: 'not found' }));
}).listen(port);
`);
