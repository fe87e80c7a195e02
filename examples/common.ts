import { App, Stack, StackProps } from 'aws-cdk-lib';
import { AppSource, PlatformWebOptions, Preset, ThreeTierPlatform, ThreeTierPlatformProps } from '../src';

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

/** What makes one example different from the others. */
export interface ExampleDefinition {
  /** The stack's name, which is also its construct id. */
  readonly stackName: string;
  /** The preset the platform starts from (a factory: each build gets its own). */
  readonly preset: () => Preset;
  /** Web tier props on top of the preset's; none when absent. */
  readonly web?: PlatformWebOptions;
}

/** The example apps, examples/<name>.ts: one stack each, named here. */
export const EXAMPLES = {
  dev: {
    stackName: 'ThreeTierDev',
    preset: Preset.dev,
  },
  staging: {
    stackName: 'ThreeTierStaging',
    preset: Preset.staging,
    // Staging without a certificate serves HTTP and says so with a warning; acknowledge it explicitly.
    web: { allowHttpOnly: true },
  },
  prod: {
    stackName: 'ThreeTierProd',
    preset: Preset.prod,
    // Production requires HTTPS: set a domain and hosted zone (or a certificate) for a real deployment.
    // HTTP only is accepted here, explicitly, so the example synthesizes without a domain.
    web: { allowHttpOnly: true },
  },
} satisfies Record<string, ExampleDefinition>;

export type ExampleName = keyof typeof EXAMPLES;

/** The platform props of an example: its preset, the placeholder API and its own web props. */
export function exampleProps(name: ExampleName): ThreeTierPlatformProps {
  const example: ExampleDefinition = EXAMPLES[name];
  return {
    preset: example.preset(),
    projectName: 'cdk-three-tier-example',
    app: { source: PLACEHOLDER_API },
    ...(example.web ? { web: { ...example.web } } : {}),
  };
}

/**
 * Adds an example's stack to `app`: a `Stack` named after the example holding a
 * `ThreeTierPlatform` with the id `Platform`. `change` receives the example's props and returns
 * the props to build with (by default the same), so a variant of an example differs from it
 * only in what `change` does.
 */
export function buildExample(
  app: App,
  name: ExampleName,
  change: (props: ThreeTierPlatformProps) => ThreeTierPlatformProps = (props) => props,
): { stack: Stack; platform: ThreeTierPlatform } {
  const stack = new Stack(app, EXAMPLES[name].stackName, { env: exampleEnv(app) });
  const platform = new ThreeTierPlatform(stack, 'Platform', change(exampleProps(name)));
  return { stack, platform };
}
