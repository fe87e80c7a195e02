import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AppSource, AppTier, AppTierProps, DataTier, DataTierProps, NetworkTier, NetworkTierProps, Preset, renderNginxConfig,
  ThreeTierPlatform, WebTier, WebTierProps,
} from '../src';
import { API_SOURCE, newStack } from './support/stacks';
import { createFleet, FleetProps } from '../src/private/fleet';

/** Each builder creates one construct in a fresh stack; validation throws in the constructor. */
function vpcIn(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
}
const network = (props: NetworkTierProps, env?: null) => () => new NetworkTier(newStack({ env }), 'Network', props);
const web = (props: Partial<WebTierProps>) => () => {
  const stack = newStack();
  new WebTier(stack, 'Web', { vpc: vpcIn(stack), apiEndpoint: 'api.internal.example:80', ...props });
};
const app = (props: Partial<AppTierProps>) => () => {
  const stack = newStack();
  new AppTier(stack, 'App', { vpc: vpcIn(stack), source: API_SOURCE, ...props });
};
const data = (props: Partial<DataTierProps>, azs = 2) => () => {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: azs,
    natGateways: 0,
    subnetConfiguration: [{ name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
  });
  new DataTier(stack, 'Data', { vpc, rotation: false, ...props });
};
const fleet = (props: Partial<FleetProps>) => () => {
  const stack = newStack();
  createFleet(stack, {
    vpc: vpcIn(stack),
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
    minCapacity: 1,
    maxCapacity: 3,
    commands: [],
    description: 'Test',
    notificationTopic: new sns.Topic(stack, 'Topic'),
    sizeHint: 'shrink the test commands',
    ...props,
  });
};
const platform = (projectName: string) => () => {
  new ThreeTierPlatform(newStack(), 'Platform', { preset: Preset.dev(), projectName, app: { source: API_SOURCE } });
};
const zone = (stack: Stack) => route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' });

/**
 * Invalid input, each with the error it must produce: the message names the prop and the value.
 */
test.each<[string, () => unknown, RegExp]>([
  // Capacities
  ['web minCapacity > maxCapacity', web({ minCapacity: 3, maxCapacity: 2 }), /maxCapacity \(2\) must be >= minCapacity \(3\) in Stack\/Web/],
  ['app minCapacity > maxCapacity', app({ minCapacity: 4, maxCapacity: 1 }), /maxCapacity \(1\) must be >= minCapacity \(4\) in Stack\/App/],
  ['web maxCapacity 101', web({ maxCapacity: 101 }), /maxCapacity \(101\) must be an integer from 1 to 100/],
  ['app minCapacity 0', app({ minCapacity: 0 }), /minCapacity \(0\) must be an integer from 1 to 100/],
  ['fleet desiredCapacity 0', fleet({ desiredCapacity: 0 }), /desiredCapacity \(0\) must be an integer from 1 to 100/],
  ['fleet desiredCapacity above maxCapacity', fleet({ desiredCapacity: 5 }), /maxCapacity \(3\) must be >= desiredCapacity \(5\)/],
  ['fleet desiredCapacity below minCapacity', fleet({ minCapacity: 2, desiredCapacity: 1 }), /desiredCapacity \(1\) must be >= minCapacity \(2\)/],
  // Network
  ['maxAzs 1', network({ maxAzs: 1 }), /maxAzs \(1\) must be an integer from 2 to 3/],
  ['maxAzs 4', network({ maxAzs: 4 }), /maxAzs \(4\) must be an integer from 2 to 3/],
  ['maxAzs 2.5', network({ maxAzs: 2.5 }), /maxAzs \(2\.5\) must be an integer from 2 to 3/],
  ['maxAzs 3 in an environment-agnostic stack', network({ maxAzs: 3 }, null), /maxAzs \(3\) needs a stack with an explicit account and region/],
  ['cidr /24 (too small)', network({ cidr: '10.0.0.0/24' }), /cidr \('10\.0\.0\.0\/24'\) must have a prefix length from \/16 to \/23/],
  ['cidr /28 (too small)', network({ cidr: '10.0.0.0/28' }), /cidr \('10\.0\.0\.0\/28'\) must have a prefix length from \/16 to \/23/],
  ['cidr /8 (too large)', network({ cidr: '10.0.0.0/8' }), /cidr \('10\.0\.0\.0\/8'\) must have a prefix length from \/16 to \/23/],
  ['cidr not a network address', network({ cidr: '10.0.0.1/16' }), /cidr \('10\.0\.0\.1\/16'\) must be an IPv4 network address/],
  ['cidr garbage', network({ cidr: 'not-a-cidr' }), /cidr \('not-a-cidr'\) must be an IPv4 network address/],
  ['cidr octet over 255', network({ cidr: '10.300.0.0/16' }), /cidr \('10\.300\.0\.0\/16'\) must be an IPv4 network address/],
  // Data tier
  ['multiAz with data subnets in 1 AZ', data({ multiAz: true }, 1), /multiAz \(true\) needs database subnets in at least 2 AZs \(found 1\)/],
  ['data subnets in 1 AZ (RDS subnet groups need 2 AZs even without Multi-AZ)', data({ multiAz: false }, 1), /vpcSubnets .*at least 2 AZs.*\(found 1\)/],
  ['db port 80', data({ port: 80 }), /port \(80\) must be an integer from 1150 to 65535 in Stack\/Data/],
  ["engineVersion '8.0'", data({ engineVersion: '8.0' }), /engineVersion \('8\.0'\) must be a full MySQL 8\.0\.x or 8\.4\.x version that aws-cdk-lib's rds\.MysqlEngineVersion lists/],
  ["engineVersion '8.4'", data({ engineVersion: '8.4' }), /engineVersion \('8\.4'\) must be a full MySQL 8\.0\.x or 8\.4\.x version/],
  ["engineVersion '5.7.44'", data({ engineVersion: '5.7.44' }), /engineVersion \('5\.7\.44'\) must be a full MySQL 8\.0\.x or 8\.4\.x version/],
  ["engineVersion '8.0.38' (never released)", data({ engineVersion: '8.0.38' }), /engineVersion \('8\.0\.38'\) must be a full MySQL 8\.0\.x or 8\.4\.x version/],
  ["engineVersion '8.1.0'", data({ engineVersion: '8.1.0' }), /engineVersion \('8\.1\.0'\) must be a full MySQL 8\.0\.x or 8\.4\.x version/],
  ['backupRetention 0 days', data({ backupRetention: Duration.days(0) }), /backupRetention \('0 days'\) must be a whole number of days from 1 to 35/],
  ['backupRetention 36 days', data({ backupRetention: Duration.days(36) }), /backupRetention \('36 days'\) must be a whole number of days from 1 to 35/],
  ['backupRetention 36 hours', data({ backupRetention: Duration.hours(36) }), /backupRetention \('1 day 12 hours'\) must be a whole number of days/],
  ['rotationInterval 0 days', data({ rotation: true, rotationInterval: Duration.days(0) }), /rotationInterval \('0 days'\) must be a whole number of days from 1 to 365/],
  ['rotationInterval 400 days', data({ rotation: true, rotationInterval: Duration.days(400) }), /rotationInterval \('400 days'\) must be a whole number of days from 1 to 365/],
  ['monitoringInterval 2 s', data({ monitoringInterval: Duration.seconds(2) }), /monitoringInterval \('2 seconds'\) must be one of 0, 1, 5, 10, 15, 30, 60 seconds/],
  ['backupRetention 7 (a number, from plain JavaScript)', data({ backupRetention: 7 as unknown as Duration }), /^backupRetention \(7\) must be a Duration, e\.g\. Duration\.days\(7\) in Stack\/Data$/],
  ['databaseName 42 (from plain JavaScript)', data({ databaseName: 42 as unknown as string }), /^databaseName \(42\) must be a string in Stack\/Data$/],
  ['allocatedStorageGiB > maxAllocatedStorageGiB', data({ allocatedStorageGiB: 40, maxAllocatedStorageGiB: 30 }), /maxAllocatedStorageGiB \(30\) must be >= allocatedStorageGiB \(40\)/],
  ['allocatedStorageGiB 10', data({ allocatedStorageGiB: 10 }), /allocatedStorageGiB \(10\) must be an integer from 20 to 65536/],
  ["databaseName 'my-db'", data({ databaseName: 'my-db' }), /databaseName \('my-db'\) must start with a letter and hold 1 to 64 letters, digits or underscores/],
  ["databaseName '1app'", data({ databaseName: '1app' }), /databaseName \('1app'\) must start with a letter/],
  ["masterUsername 'root'", data({ masterUsername: 'root' }), /masterUsername \('root'\) must .*not be 'root' or 'rdsadmin'/],
  ["masterUsername 'a-very-long-admin-name'", data({ masterUsername: 'a_very_long_admin_name' }), /masterUsername \('a_very_long_admin_name'\) must start with a letter, hold 1 to 16/],
  ['performanceInsights on db.t4g.micro', data({ performanceInsights: true, instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO) }),
    /performanceInsights \(true\) is not supported on t4g\.micro/],
  // Web tier
  ['HTTP only in prod', web({ preset: Preset.prod() }), /certificate \(undefined\) is required with the prod preset in Stack\/Web/],
  ['hostedZone without domainName', () => {
    const stack = newStack();
    new WebTier(stack, 'Web', { vpc: vpcIn(stack), apiEndpoint: 'api.internal.example:80', hostedZone: zone(stack) });
  }, /domainName \(undefined\) is required when hostedZone is given/],
  ['domainName without hostedZone or certificate', web({ domainName: 'www.example.com' }),
    /hostedZone \(undefined\) is required for a DNS-validated certificate of domainName 'www\.example\.com'/],
  ["web healthCheckPath 'nginx-health' (no leading slash)", web({ healthCheckPath: 'nginx-health' }), /healthCheckPath \('nginx-health'\) must be a URL path starting with '\/'/],
  ['web healthCheckPath with a space and a semicolon', web({ healthCheckPath: '/x; return 500' }), /healthCheckPath \('\/x; return 500'\) must be a URL path/],
  ["apiExactPaths 'readyz'", web({ apiExactPaths: ['readyz'] }), /apiExactPaths \('readyz'\) must be a URL path starting with '\/'/],
  ['web cpuTargetUtilizationPercent 95', web({ cpuTargetUtilizationPercent: 95 }), /cpuTargetUtilizationPercent \(95\) must be an integer from 10 to 90/],
  ['requestsPerTargetPerMinute 0', web({ requestsPerTargetPerMinute: 0 }), /requestsPerTargetPerMinute \(0\) must be an integer from 1 to 100000/],
  ['accessLogExpirationDays 0', web({ accessLogExpirationDays: 0 }), /accessLogExpirationDays \(0\) must be an integer from 1 to 3650/],
  ["apiEndpoint 'api.internal.example' (no port)", web({ apiEndpoint: 'api.internal.example' }), /apiEndpoint \('api\.internal\.example'\) must be host:port/],
  ['apiEndpoint port 70000', web({ apiEndpoint: 'api.internal.example:70000' }), /apiEndpoint \('api\.internal\.example:70000'\) must be host:port/],
  // App tier
  ['app port 70000', app({ port: 70000 }), /port \(70000\) must be an integer from 1024 to 65535 in Stack\/App/],
  ['app port 80 (privileged)', app({ port: 80 }), /port \(80\) must be an integer from 1024 to 65535 in Stack\/App/],
  ['app listenerPort 0', app({ listenerPort: 0 }), /listenerPort \(0\) must be an integer from 1 to 65535/],
  ["app healthCheckPath 'healthz'", app({ healthCheckPath: 'healthz' }), /healthCheckPath \('healthz'\) must be a URL path starting with '\/'/],
  ['nodeVersion 18', app({ nodeVersion: 18 }), /nodeVersion \(18\) must be one of 20, 22, 24/],
  ['environment key PORT (reserved)', app({ environment: { PORT: '9000' } }), /environment name \('PORT'\) must not be one the tier sets/],
  ['environment key DB_HOST (reserved)', app({ environment: { DB_HOST: 'elsewhere' } }), /environment name \('DB_HOST'\) must not be one the tier sets/],
  ["environment key 'MY-VAR' (invalid)", app({ environment: { 'MY-VAR': 'x' } }), /environment name \('MY-VAR'\) must be 1 to 128 letters, digits and underscores/],
  ["environment key '1ST' (invalid)", app({ environment: { '1ST': 'x' } }), /environment name \('1ST'\) must be 1 to 128 letters, digits and underscores, not starting with a digit/],
  ['environment value with a NUL byte', app({ environment: { GREETING: 'hello\0world' } }), /environment\.GREETING \('hello\0world'\) must not hold a NUL byte/],
  ['environment name LD_PRELOAD (the loader)', app({ environment: { LD_PRELOAD: '/tmp/x.so' } }), /environment name \('LD_PRELOAD'\) must not be a name the system gives a meaning to/],
  ['startCommand with a newline', app({ startCommand: 'node server.js\nrm -rf /' }), /startCommand \('node server\.js\nrm -rf \/'\) must be one non-empty line \(no NUL, CR or LF\)/],
  ['app cpuTargetUtilizationPercent 5', app({ cpuTargetUtilizationPercent: 5 }), /cpuTargetUtilizationPercent \(5\) must be an integer from 10 to 90/],
  ['inline source over 8 KiB', app({ source: AppSource.fromInline('x'.repeat(9000)) }), /source inline code bytes \(9000\) must be at most 8192: use AppSource\.fromAsset\(\)/],
  ["inline source file name '../x.js'", app({ source: AppSource.fromInline('x', '../x.js') }), /source file name \('\.\.\/x\.js'\) must be a plain file name/],
  ["bucketSeedPrefix 'images' (no trailing slash)", () => {
    const stack = newStack();
    const vpc = vpcIn(stack);
    new AppTier(stack, 'App', { vpc, source: API_SOURCE, bucketSeedPrefix: 'images' });
  }, /bucketSeedPrefix \('images'\) must be a literal S3 key prefix: one or more segments/],
  // Platform
  ["projectName '-shop' (starts with a dash)", platform('-shop'), /projectName \('-shop'\) must be 1 to 128 characters valid in a tag value \(letters, digits, spaces and _ \. : \/ = \+ - @\), starting with a letter or digit/],
  ['projectName of 129 characters', platform('p'.repeat(129)), /projectName \('p{129}'\) must be 1 to 128 characters/],
  // NGINX configuration renderer (public)
  ['renderNginxConfig without upstreams', () => renderNginxConfig({ apiUpstreams: [] }), /apiUpstreams \(\[\]\) must name at least one upstream/],
  ["renderNginxConfig upstream 'api' (no port)", () => renderNginxConfig({ apiUpstreams: ['api'] }), /apiUpstreams \('api'\) entries must be host:port/],
  ["renderNginxConfig apiPathPrefix '/api'", () => renderNginxConfig({ apiUpstreams: ['api:80'], apiPathPrefix: '/api' }), /apiPathPrefix \('\/api'\) must start and end with '\/'/],
  ['renderNginxConfig listenPort 70000', () => renderNginxConfig({ apiUpstreams: ['api:80'], listenPort: 70000 }), /listenPort \(70000\)/],
  ["renderNginxConfig healthCheckPath '/x; return 500'", () => renderNginxConfig({ apiUpstreams: ['api:80'], healthCheckPath: '/x; return 500' }),
    /healthCheckPath \('\/x; return 500'\)/],
])('%s', (_name, build, message) => {
  expect(build).toThrow(message);
});
