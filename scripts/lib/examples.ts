import { Preset } from '../../src';

export type ExampleName = 'dev' | 'staging' | 'prod';
export const EXAMPLES: ExampleName[] = ['dev', 'staging', 'prod'];

/** The stack name of each example (see examples/<env>.ts). */
export const STACK_NAMES: Record<ExampleName, string> = { dev: 'ThreeTierDev', staging: 'ThreeTierStaging', prod: 'ThreeTierProd' };

export function presetOf(example: ExampleName): Preset {
  return { dev: Preset.dev, staging: Preset.staging, prod: Preset.prod }[example]();
}

/** What the update step of the deployment tests changes: instance types, capacities and the `project` tag. */
export interface UpdateVariant {
  readonly webInstanceType: string;
  readonly appInstanceType: string;
  readonly webMinCapacity: number;
  readonly webMaxCapacity: number;
  readonly appMinCapacity: number;
  readonly appMaxCapacity: number;
  /**
   * A tag set on both Auto Scaling Groups (and so their instances), overriding the platform's.
   * Only there: moto cannot update most resource types (a tag change on the VPC, the database or a
   * KMS key makes its UpdateStack fail), so a stack-wide tag change cannot be tested on it.
   */
  readonly tag: { key: string; value: string };
}

const bump = (example: ExampleName, webType: string, appType: string): UpdateVariant => {
  const v = presetOf(example).values;
  return {
    webInstanceType: webType,
    appInstanceType: appType,
    webMinCapacity: v.webMinCapacity + 1,
    webMaxCapacity: v.webMaxCapacity + 1,
    appMinCapacity: v.appMinCapacity + 1,
    appMaxCapacity: v.appMaxCapacity + 1,
    tag: { key: 'project', value: 'cdk-three-tier-example-updated' },
  };
};

export const UPDATE_VARIANTS: Record<ExampleName, UpdateVariant> = {
  dev: bump('dev', 't3.small', 't3.small'),
  staging: bump('staging', 't3.medium', 't3.medium'),
  prod: bump('prod', 'm7i.xlarge', 'm7i.xlarge'),
};
