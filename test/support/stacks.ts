import './v8-flags';
import { App, Environment, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AppSource, Preset, ThreeTierPlatform, ThreeTierPlatformProps } from '../../src';

/**
 * aws-cdk-lib's own NAT instance provider (`NatProvider.instanceV2`, the dev preset) passes the
 * deprecated `keyName` to `ec2.Instance`, so every synthesis printed a jsii deprecation warning with
 * a stack trace, hundreds per run. Only this warning, which no code here can act on, is dropped; any
 * other deprecation still shows.
 */
const consoleWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (args[0] === '[WARNING]' && String(args[1]).startsWith('aws-cdk-lib.aws_ec2.InstanceProps#keyName is deprecated')) return;
  consoleWarn(...args);
};

/**
 * A concrete account and region: the stack offers 3 AZs (dummy1a, dummy1b, dummy1c without a
 * context lookup), which the prod preset needs. Env-agnostic stacks only get 2.
 */
export const ENV: Environment = { account: '123456789012', region: 'us-east-1' };

/** The three presets by name, freshly created on each call. */
export const PRESETS = {
  dev: () => Preset.dev(),
  staging: () => Preset.staging(),
  prod: () => Preset.prod(),
};
export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES: PresetName[] = ['dev', 'staging', 'prod'];

/** A stack in its own app; `env: undefined` gives an environment-agnostic stack. */
export function newStack(options: { id?: string; env?: Environment | null } = {}): Stack {
  const app = new App();
  return new Stack(app, options.id ?? 'Stack', { env: options.env === null ? undefined : options.env ?? ENV });
}

/** The code of a tiny API for the app tier. */
export const API_CODE = [
  "const http = require('http');",
  'http.createServer((req, res) => res.end(req.url)).listen(Number(process.env.PORT));',
].join('\n');

/** A tiny API for the app tier. */
export const API_SOURCE = AppSource.fromInline(API_CODE);

export interface SynthesizedPlatform {
  readonly stack: Stack;
  readonly platform: ThreeTierPlatform;
  readonly template: Template;
}

/**
 * A platform with id `Platform` in a stack `Stack` (us-east-1). HTTP only is allowed, so the prod
 * preset synthesizes without a certificate.
 */
export function synthPlatform(preset: PresetName | Preset, props: Partial<ThreeTierPlatformProps> = {}): SynthesizedPlatform {
  const stack = newStack();
  const platform = new ThreeTierPlatform(stack, 'Platform', {
    preset: typeof preset === 'string' ? PRESETS[preset]() : preset,
    app: { source: API_SOURCE },
    ...props,
    web: { allowHttpOnly: true, ...props.web },
  });
  return { stack, platform, template: Template.fromStack(stack) };
}
