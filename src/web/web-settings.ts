import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IConstruct } from 'constructs';
import { WEB_PATHS } from './boot';
import { WebTierProps } from './web-tier-props';
import { PresetValues, Preset } from '../preset/preset';
import { propOrPreset, Sourced } from '../private/resolve';
import { checkDomainName, checkExactPaths, checkHostname, checkHostPort, checkIntRange, checkPath, checkString, checkTokenSource, invalid } from '../private/validation';

/** The web tier's own values in effect: what the user passed, else the preset's, else the library default. */
export interface WebSettings {
  readonly preset: PresetValues;
  readonly healthCheckPath: string;
  readonly requestsPerTargetPerMinute: number;
  readonly accessLogExpirationDays: Sourced<number>;
  readonly allowHttpOnly: boolean;
  readonly sslPolicy: elbv2.SslPolicy;
  readonly instanceSubnets: ec2.SubnetSelection;
  readonly loadBalancerSubnets: ec2.SubnetSelection;
}

/** The paths the web tier's boot steps write (boot hook files must not use them). */
export const WEB_RESERVED_PATHS = [
  WEB_PATHS.nginxConfig, WEB_PATHS.placeholderPage, WEB_PATHS.reresolveService, WEB_PATHS.reresolveTimer, '/tmp/site.zip',
];

/**
 * Resolves the web tier's own props: props over preset over default. (The options it shares with
 * the app tier are resolved by the load-balanced fleet builder.)
 */
export function resolveWebSettings(props: WebTierProps): WebSettings {
  const preset = (props.preset ?? Preset.dev()).values;
  return {
    preset,
    healthCheckPath: props.healthCheckPath ?? '/nginx-health',
    requestsPerTargetPerMinute: props.requestsPerTargetPerMinute ?? 1000,
    accessLogExpirationDays: propOrPreset('accessLogExpirationDays', props.accessLogExpirationDays, preset, 'accessLogExpirationDays'),
    allowHttpOnly: props.allowHttpOnly ?? false,
    sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
    instanceSubnets: props.instanceSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    loadBalancerSubnets: props.loadBalancerSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
  };
}

/** Validates the web tier's own props (the shared fleet options are checked by the builder). */
export function validateWebProps(scope: IConstruct, props: WebTierProps, settings: WebSettings): void {
  checkPath(scope, 'healthCheckPath', settings.healthCheckPath);
  checkExactPaths(scope, 'apiExactPaths', props.apiExactPaths, settings.healthCheckPath);
  checkIntRange(scope, 'requestsPerTargetPerMinute', settings.requestsPerTargetPerMinute, 1, 100000);
  checkString(scope, 'apiEndpoint', props.apiEndpoint);
  checkHostPort(scope, 'apiEndpoint', props.apiEndpoint);
  checkTokenSource(scope, 'apiEndpoint', props.apiEndpoint);
  if (props.apiTlsServerName !== undefined) {
    checkHostname(scope, 'apiTlsServerName', props.apiTlsServerName);
    checkTokenSource(scope, 'apiTlsServerName', props.apiTlsServerName);
  }
  checkDomainName(scope, 'domainName', props.domainName, props.hostedZone);
  if (props.siteAssetPath !== undefined) checkString(scope, 'siteAssetPath', props.siteAssetPath);
  if (props.hostedZone && !props.domainName) {
    invalid(scope, 'domainName', props.domainName, 'is required when hostedZone is given');
  }
  if (props.domainName && !props.hostedZone && !props.certificate) {
    invalid(scope, 'hostedZone', props.hostedZone, `is required for a DNS-validated certificate of domainName '${props.domainName}' (or pass certificate)`);
  }
}
