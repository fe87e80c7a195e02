import { awscdk, javascript } from 'projen';

const CDK_VERSION = '2.257.0';
const INTEG_APP = '"npx ts-node --transpile-only {filePath}"';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-three-tier',
  description:
    'A secure, highly available three-tier web platform on AWS (VPC, public ALB + NGINX, internal ALB + API, RDS MySQL) in one construct, with dev/staging/prod presets.',
  author: 'cdk-three-tier maintainers',
  authorAddress: 'maintainers@cdk-three-tier.dev',
  repositoryUrl: 'https://github.com/cdk-three-tier/cdk-three-tier.git',
  keywords: ['cdk', 'aws-cdk', 'awscdk', 'three-tier', 'alb', 'autoscaling', 'rds', 'mysql', 'vpc', 'cdk-nag'],
  license: 'Apache-2.0',
  stability: 'experimental',

  cdkVersion: CDK_VERSION,
  // aws-cdk-lib is pinned exactly for development (integ-runner reads cloud assembly schema 53 only),
  // while users may be on any newer 2.x release.
  cdkVersionPinning: false,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  // The repository's CI is `.ci/run`; no GitHub workflows are generated.
  github: false,
  release: false,
  depsUpgrade: false,
  sampleCode: false,

  // Top-level development tsconfig, covering tests, integ tests and examples.
  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: {
    include: ['src/**/*.ts', 'test/**/*.ts', 'integ/**/*.ts', 'examples/**/*.ts', 'scripts/**/*.ts', '.projenrc.ts', 'projenrc/**/*.ts'],
    exclude: ['node_modules', 'integ/**/*.snapshot/**', 'integ/store-app/dist/**'],
    compilerOptions: {
      lib: ['es2022', 'dom'],
    },
  },

  jestOptions: {
    // jest 30 and eslint-import-resolver-typescript 4 depend on unrs-resolver, whose platform
    // packages are not all on the registry our machines use: `npm ci` then rejects the lock file.
    jestVersion: '^29',
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '\\.snapshot/'],
      coverageReporters: ['text-summary', 'lcov'],
      // Works around a Node 20 V8 compile stall that kept Jest from exiting (see the file).
      setupFiles: ['<rootDir>/test/support/v8-flags.ts'],
    },
  },

  eslintOptions: {
    // One typed-lint project for sources, tests, integ tests and examples.
    tsconfigPath: './tsconfig.dev.json',
    projectService: false,
    dirs: ['src'],
    devdirs: ['test', 'integ', 'examples', 'scripts'],
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'integ/**/*.snapshot/**', 'integ/store-app/dist/**', 'integ/store-app/web/**'],
  },

  publishToPypi: {
    distName: 'cdk-three-tier',
    module: 'cdk_three_tier',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkthreetier',
    mavenGroupId: 'io.github.cdk-three-tier',
    mavenArtifactId: 'cdk-three-tier',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkThreeTier',
    packageId: 'CdkThreeTier',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-three-tier/cdk-three-tier-go',
  },

  devDeps: [
    'cdk-nag@3.0.2',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    '@aws-cdk/integ-runner@2.197.10',
    '@aws-cdk/cloudformation-diff',
    'aws-cdk@^2.1148.0',
    // reference store app and its local harness
    'fastify@^5',
    '@fastify/multipart@^9',
    'mysql2@^3',
    '@aws-sdk/client-s3@^3',
    '@aws-sdk/client-secrets-manager@^3',
    '@aws-sdk/client-cloudformation@^3',
    '@aws-sdk/client-ec2@^3',
    '@aws-sdk/client-rds@^3',
    '@aws-sdk/client-auto-scaling@^3',
    '@aws-sdk/client-elastic-load-balancing-v2@^3',
    '@aws-sdk/client-ssm@^3',
    'esbuild@^0.25',
    'playwright-core@^1',
    'autocannon@^8',
    '@types/autocannon',
    '@aws-sdk/rds-signer@^3',
    '@types/aws-lambda',
    // hostile-input suite
    'fast-check@^3',
    // scripts/ (demo, deploy:test): publishes the cloud assembly's file assets, zipping directories itself
    '@aws-cdk/cdk-assets-lib@^1.5.0',
  ],
  // Handlers in src/**/*.lambda.ts are bundled with esbuild into assets/ at pre-compile (mysql2
  // included; the AWS SDK v3 comes with the Lambda runtime).
  lambdaAutoDiscover: true,
  lambdaOptions: {
    runtime: awscdk.LambdaRuntime.NODEJS_22_X,
    bundlingOptions: { externals: ['@aws-sdk/*'] },
  },
  gitignore: [
    'cdk.out/',
    '.cdk.staging/',
    'integ/**/cdk.out',
    'integ/store-app/dist/',
    'test-artifacts/',
    '.tmp/',
    '__pycache__/',
    '*.tgz',
    '.jsii.tabl.json',
    'cdk.context.json',
  ],
  npmIgnoreOptions: { ignorePatterns: ['integ/', 'examples/', 'scripts/', '.ci/', 'requirements-dev.txt', 'test-artifacts/', 'rosetta/', '.cfnlintrc.yaml'] },
});

// eslint-import-resolver-typescript 4 depends on unrs-resolver (see jestVersion above): pin 3.6.3.
project.deps.removeDependency('eslint-import-resolver-typescript');
project.addDevDeps('eslint-import-resolver-typescript@3.6.3');

const tsNode = 'npx ts-node --transpile-only';

// --- integration tests (integ-runner): verify committed snapshots, update them deliberately ---
project.addTask('integ:bundle', {
  description: 'Bundle the reference store app (deterministic esbuild output used as an asset by the integ tests)',
  exec: 'node integ/store-app/bundle.mjs',
});
const integ = project.addTask('integ', {
  description: 'Verify integ test snapshots (no deploy): fails on drift or destructive changes',
});
integ.spawn(project.tasks.tryFind('integ:bundle')!);
integ.exec(`integ-runner --directory integ --language typescript --app ${INTEG_APP}`);
const integUpdate = project.addTask('integ:update', {
  description: 'Re-synthesize integ test snapshots without deploying',
});
integUpdate.spawn(project.tasks.tryFind('integ:bundle')!);
integUpdate.exec(`integ-runner --directory integ --language typescript --app ${INTEG_APP} --update-on-failed --dry-run`);
project.addTask('integ:deploy', {
  description: 'Deploy the integ tests to your AWS account, run their assertions, and destroy them',
  exec: `integ-runner --directory integ --language typescript --app ${INTEG_APP} --update-on-failed --parallel-regions us-east-1`,
});

// --- examples ---
const examplesSynth = project.addTask('examples:synth', {
  description: 'Synthesize every example app into cdk.out/examples/<env>',
});
for (const env of ['dev', 'staging', 'prod']) {
  examplesSynth.exec(`cdk synth --quiet --app "${tsNode} examples/${env}.ts" --output cdk.out/examples/${env}`);
}
project.addTask('cost', {
  description: 'Print the monthly cost estimate of each example per resource type (us-east-1 prices and usage assumptions in scripts/lib/cost/prices.json)',
  exec: `${tsNode} scripts/cost.ts`,
  receiveArgs: true,
});
const cfnLint = project.addTask('cfn-lint', {
  description: 'cfn-lint every synthesized example template and every integ snapshot template',
});
cfnLint.spawn(examplesSynth);
cfnLint.exec('bash scripts/cfn-lint.sh');

// --- other languages: generate sources offline (full packaging needs PyPI/Maven/dotnet/go) ---
project.addTask('package:code-only', {
  description: 'Generate Python, Java, .NET and Go sources with jsii-pacmak (no registries needed)',
  exec: 'jsii-pacmak --target python --target java --target dotnet --target go --code-only --outdir dist/code-only',
});
project.addTask('rosetta:extract', {
  description: 'Compile every README snippet with jsii-rosetta in strict mode',
  exec: 'jsii-rosetta extract --strict --fail',
});
project.postCompileTask.spawn(project.tasks.tryFind('rosetta:extract')!);

// --- reference store app on local servers ---
project.addTask('store:local', {
  description: 'Run the store app on real local tiers (MariaDB, moto, 2 API processes, NGINX) and the Python example API, and test them end to end',
  exec: `${tsNode} integ/store-app/local/run.ts`,
  receiveArgs: true,
});
project.addTask('store:bench', {
  description: 'Benchmark GET /api/products through NGINX on local tiers (prints req/s and p99)',
  exec: `${tsNode} integ/store-app/local/bench.ts`,
});

// --- deployments to the local AWS emulator ---
project.addTask('demo', {
  description: 'Deploy the dev example with the store app to a local AWS emulator (or real AWS with --real) and print a summary',
  exec: `${tsNode} scripts/demo.ts`,
  receiveArgs: true,
});
project.addTask('deploy:test', {
  description: 'Create, update and delete every example against the local AWS emulator and compare with intent',
  exec: `${tsNode} scripts/deploy-test.ts`,
  receiveArgs: true,
});

// --- forward compatibility: unit tests against the newest aws-cdk-lib ---
project.addTask('test:compat', {
  description: 'Run the unit tests against the newest aws-cdk-lib in a temporary folder',
  exec: 'bash scripts/test-compat.sh',
});
project.addTask('test:tarball', {
  description: 'Install the packed npm tarball into a fresh CDK app and synthesize the README quick start',
  exec: 'bash scripts/test-tarball.sh',
});

// The one command CI runs (and the README gives).
const ci = project.addTask('ci', {
  description: 'Everything CI checks: build (compile, docs, unit/compliance tests, integ snapshots, cfn-lint, lint, npm package), other languages, tarball, local tiers, emulator deploys, newest aws-cdk-lib',
});
ci.spawn(project.buildTask);
ci.spawn(project.tasks.tryFind('package:code-only')!);
ci.spawn(project.tasks.tryFind('test:tarball')!);
ci.spawn(project.tasks.tryFind('store:local')!);
ci.spawn(project.tasks.tryFind('deploy:test')!);
ci.spawn(project.tasks.tryFind('test:compat')!);

// Unit tests, then snapshot verification of integ tests and cfn-lint, as part of `test`.
project.testTask.spawn(integ);
project.testTask.spawn(cfnLint);

project.synth();
