import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnParameter, Lazy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AppRuntime, AppTier, AppTierProps } from '../src';
import { API_SOURCE, newStack, PRESETS, synthPlatform } from './support/stacks';
import { bootFile, bootFiles, launchTemplateUserData, onlyResource } from './support/template';
import { APP_PATHS, AppBootOptions, renderAppBootCommands, renderAppUnit, renderRuntimeScript, renderStartScript } from '../src/app/boot';

/** The boot steps around the runtime's, with markers for the parts that are not the runtime's. */
const BASE: Omit<AppBootOptions, 'runtime'> = {
  sourceCommands: ['# SOURCE'],
  environment: { PORT: '8080' },
  startCommand: 'START',
  port: 8080,
  healthCheckPath: '/healthz',
};
const SEED = { assetBucketName: 'assets', assetObjectKey: 'seed.zip', bucketName: 'data', prefix: 'ref/' };

/** Runtimes bind without a stack: any construct names the path in errors. */
const bind = (runtime: AppRuntime) => runtime.bind(new App());
const render = (runtime: AppRuntime, options: Partial<AppBootOptions> = {}) => renderAppBootCommands({ ...BASE, ...options, runtime: bind(runtime) });
const startScriptOf = (commands: string[]) => bootFile(commands.join('\n'), APP_PATHS.startScript);

/** The index of the first line matching, failing the test when none does. */
function indexOf(lines: string[], match: string | RegExp): number {
  const i = lines.findIndex((l) => (typeof match === 'string' ? l === match : match.test(l)));
  if (i < 0) throw new Error(`no line matches ${match}:\n${lines.join('\n')}`);
  return i;
}

/** Asserts that the lines matching each entry appear in exactly this order. */
function expectOrder(lines: string[], matches: Array<string | RegExp>): void {
  const positions = matches.map((m) => indexOf(lines, m));
  expect(positions).toEqual([...positions].sort((a, b) => a - b));
  expect(new Set(positions).size).toBe(positions.length);
}

const STEPS_AFTER_PREPARE: Array<string | RegExp> = [
  'chown -R root:app /opt/app',
  "chmod 0640 '/etc/cdk-three-tier/app.env'",
  "chmod 0755 '/etc/cdk-three-tier/start.sh'",
  "chmod 0644 '/etc/systemd/system/app.service'",
  'systemctl enable --now app',
  /^curl .*'http:\/\/127\.0\.0\.1:8080\/healthz'$/,
];

describe('AppRuntime.nodejs', () => {
  test('the default renders exactly the boot steps of the releases before runtimes', () => {
    const lines = render(AppRuntime.nodejs(), { startCommand: 'node server.js' });
    expect(lines.slice(0, 5)).toEqual([
      'dnf install -y nodejs22 unzip',
      'ln -sf "$(command -v node-22 || command -v node)" /usr/local/bin/node',
      'id app >/dev/null 2>&1 || useradd --system --home-dir /opt/app --shell /sbin/nologin app',
      'mkdir -p /opt/app /etc/cdk-three-tier',
      '# SOURCE',
    ]);
    expect(lines.slice(5, 7)).toEqual(['chown -R root:app /opt/app', 'chmod -R u=rwX,g=rX,o= /opt/app']);
    expect(lines.slice(-3)).toEqual([
      'systemctl daemon-reload',
      'systemctl enable --now app',
      "curl -fsS --retry 30 --retry-delay 2 --retry-connrefused 'http://127.0.0.1:8080/healthz'",
    ]);
    // The three files, four lines each (mkdir, printf, chown, chmod), between them.
    expect(lines.length).toBe(7 + 3 * 4 + 3);
    expect([...bootFiles(lines.join('\n')).keys()]).toEqual([APP_PATHS.environmentFile, APP_PATHS.startScript, APP_PATHS.unit]);
    expect(startScriptOf(lines)).toBe(renderStartScript('node server.js'));
    expect(bootFile(lines.join('\n'), APP_PATHS.unit)).toBe(renderAppUnit());
  });

  test.each([20, 22, 24])('Node.js %i: its package and binary; start command node server.js; NODE_ENV=production', (version) => {
    const config = bind(AppRuntime.nodejs(version));
    expect(config.installCommands).toEqual([
      `dnf install -y nodejs${version} unzip`,
      `ln -sf "$(command -v node-${version} || command -v node)" /usr/local/bin/node`,
    ]);
    expect(config.prepareCommands).toEqual([]);
    expect(config.defaultStartCommand).toBe('node server.js');
    expect(config.environment).toEqual({ NODE_ENV: 'production' });
    expect(config.description).toBe(`Node.js ${version}`);
  });

  test.each([18, 21, 26, 22.5])('Node.js %p is refused', (version) => {
    expect(() => bind(AppRuntime.nodejs(version))).toThrow(`AppRuntime.nodejs() version (${version}) must be one of 20, 22, 24`);
  });
});

describe('AppRuntime.python', () => {
  test('boot order: install, app, virtual environment and requirements, environment and unit, start, health check', () => {
    const lines = render(AppRuntime.python(), { seed: SEED });
    expect(lines[0]).toBe('dnf install -y python3.11 python3.11-pip unzip');
    expectOrder(lines, [
      'dnf install -y python3.11 python3.11-pip unzip',
      /^id app /,
      '# SOURCE',
      'python3.11 -m venv /opt/app/.venv',
      /--no-index --find-links \/opt\/app\/wheels -r \/opt\/app\/requirements\.txt; fi$/,
      /^if \[ -f \/opt\/app\/requirements\.txt \] && \[ ! -d \/opt\/app\/wheels \]; then \/opt\/app\/\.venv\/bin\/pip install --no-cache-dir --disable-pip-version-check -r \/opt\/app\/requirements\.txt; fi$/,
      /^aws s3 cp --recursive \/tmp\/seed /,
      ...STEPS_AFTER_PREPARE,
    ]);
  });

  test('default start command: Gunicorn from the virtual environment, on $PORT, 2 workers, app:app', () => {
    const config = bind(AppRuntime.python());
    expect(config.defaultStartCommand).toBe('exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 2 app:app');
    expect(config.environment).toEqual({ PYTHONUNBUFFERED: '1' });
    expect(config.description).toBe('Python 3.11 (Gunicorn)');
    expect(bind(AppRuntime.python({ wsgiApp: 'myapi.wsgi:application', workers: 8 })).defaultStartCommand)
      .toBe('exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 8 myapi.wsgi:application');
  });

  test.each([
    ['3.9', 'python3 python3-pip', 'python3.9'],
    ['3.11', 'python3.11 python3.11-pip', 'python3.11'],
    ['3.12', 'python3.12 python3.12-pip', 'python3.12'],
    ['3.13', 'python3.13 python3.13-pip', 'python3.13'],
  ])('Python %s: packages %s, interpreter %s', (version, packages, interpreter) => {
    const config = bind(AppRuntime.python({ version }));
    expect(config.installCommands).toEqual([`dnf install -y ${packages} unzip`]);
    expect(config.prepareCommands[0]).toBe(`${interpreter} -m venv /opt/app/.venv`);
    expect(config.description).toBe(`Python ${version} (Gunicorn)`);
  });

  test.each([
    ['version', { version: '3.10' }, "AppRuntime.python() version ('3.10') must be one of '3.9', '3.11', '3.12', '3.13'"],
    ['version', { version: '3' }, "AppRuntime.python() version ('3') must be one of"],
    ['version', { version: 'toString' }, "AppRuntime.python() version ('toString') must be one of"],
    ['version', { version: 3.11 as any }, 'AppRuntime.python() version (3.11) must be a string'],
    ['wsgiApp', { wsgiApp: 'app:app; rm -rf /' }, "AppRuntime.python() wsgiApp ('app:app; rm -rf /') must be module:callable"],
    ['wsgiApp', { wsgiApp: 'app' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: 'app:' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: ':app' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: 'app:create_app()' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: 'app:$(id)' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: 'app:app\nid' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: '1app:app' }, 'must be module:callable'],
    ['wsgiApp', { wsgiApp: `m:${'a'.repeat(200)}` }, 'at most 200 characters'],
    ['workers', { workers: 0 }, 'AppRuntime.python() workers (0) must be an integer from 1 to 64'],
    ['workers', { workers: 65 }, 'AppRuntime.python() workers (65) must be an integer from 1 to 64'],
    ['workers', { workers: 1.5 }, 'AppRuntime.python() workers (1.5) must be an integer from 1 to 64'],
    ['workers', { workers: '2' as any }, "AppRuntime.python() workers ('2') must be a number"],
  ])('%s %j is refused', (_, options, message) => {
    expect(() => bind(AppRuntime.python(options))).toThrow(message);
  });

  test('workers and version must be literals: a Lazy resolves, a parameter is refused', () => {
    const stack = newStack();
    expect(AppRuntime.python({ workers: Lazy.number({ produce: () => 4 }) }).bind(stack).defaultStartCommand).toContain('--workers 4 ');
    const workers = new CfnParameter(stack, 'Workers', { type: 'Number' }).valueAsNumber;
    expect(() => AppRuntime.python({ workers }).bind(stack)).toThrow(/AppRuntime\.python\(\) workers \('token \{"Ref":"Workers"\}'\) must be a literal number/);
    const version = new CfnParameter(stack, 'Version').valueAsString;
    expect(() => AppRuntime.python({ version }).bind(stack)).toThrow(/AppRuntime\.python\(\) version \('token \{"Ref":"Version"\}'\) must be a literal string/);
  });

  describe('installing requirements (the rendered lines run by bash, /opt/app moved to a temporary directory)', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'python-prepare-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Runs the prepare lines with python3.11 and pip stubbed: returns what pip was called with. */
    function prepare(files: string[]): string[] {
      const bin = path.join(dir, 'bin');
      fs.mkdirSync(bin);
      const app = path.join(dir, 'app');
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(app, f)), { recursive: true });
        fs.writeFileSync(path.join(app, f), '');
      }
      fs.mkdirSync(app, { recursive: true });
      // The stub interpreter creates the environment with a pip that records its arguments.
      fs.writeFileSync(path.join(bin, 'python3.11'), [
        '#!/bin/bash', 'set -eu', '[ "$1 $2" = "-m venv" ]', 'mkdir -p "$3/bin"',
        `printf '%s\\n' '#!/bin/bash' 'echo "$*" >> ${dir}/pip.log' > "$3/bin/pip"`, 'chmod +x "$3/bin/pip"', '',
      ].join('\n'), { mode: 0o755 });
      const script = ['set -euo pipefail', ...bind(AppRuntime.python()).prepareCommands].join('\n').split('/opt/app').join(app);
      execFileSync('/bin/bash', ['-c', script], { env: { PATH: `${bin}:/usr/bin:/bin` }, stdio: ['ignore', 'pipe', 'pipe'] });
      const log = path.join(dir, 'pip.log');
      return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(app).join('/opt/app')) : [];
    }

    test('no requirements.txt: a virtual environment, no pip install', () => {
      expect(prepare(['app.py'])).toEqual([]);
      expect(fs.existsSync(path.join(dir, 'app', '.venv', 'bin', 'pip'))).toBe(true);
    });

    test('requirements.txt without wheels/: pip installs from the index', () => {
      expect(prepare(['app.py', 'requirements.txt'])).toEqual([
        'install --no-cache-dir --disable-pip-version-check -r /opt/app/requirements.txt',
      ]);
    });

    test('requirements.txt with wheels/: pip installs only from the vendored wheels', () => {
      expect(prepare(['app.py', 'requirements.txt', 'wheels/gunicorn-23.0.0-py3-none-any.whl'])).toEqual([
        'install --no-cache-dir --disable-pip-version-check --no-index --find-links /opt/app/wheels -r /opt/app/requirements.txt',
      ]);
    });
  });
});

describe('AppRuntime.custom', () => {
  const custom = AppRuntime.custom({
    installCommands: ['dnf install -y java-21-amazon-corretto-headless', 'echo "a (b) \'c\'" # not the end'],
    prepareCommands: ['test -f app.jar'],
    startCommand: 'exec java -jar app.jar',
  });

  test('install commands run from a script before the app is installed; prepare commands after, in the app directory', () => {
    const lines = render(custom);
    expectOrder(lines, [
      'dnf install -y unzip',
      "chmod 0700 '/etc/cdk-three-tier/runtime-install.sh'",
      '/bin/bash /etc/cdk-three-tier/runtime-install.sh',
      /^id app /,
      '# SOURCE',
      "chmod 0700 '/etc/cdk-three-tier/runtime-prepare.sh'",
      '/bin/bash /etc/cdk-three-tier/runtime-prepare.sh',
      ...STEPS_AFTER_PREPARE,
    ]);
    const script = lines.join('\n');
    expect(bootFile(script, APP_PATHS.installScript)).toBe([
      '#!/bin/bash',
      "# Rendered by cdk-three-tier: the app runtime's installCommands, run as root before the app is installed.",
      'set -euo pipefail',
      'dnf install -y java-21-amazon-corretto-headless',
      'echo "a (b) \'c\'" # not the end',
      '',
    ].join('\n'));
    expect(bootFile(script, APP_PATHS.prepareScript).split('\n').slice(2)).toEqual(['set -euo pipefail', "cd '/opt/app'", 'test -f app.jar', '']);
    // The user's commands are never lines of the boot script itself.
    expect(lines).not.toContain('test -f app.jar');
    expect(bind(custom).defaultStartCommand).toBe('exec java -jar app.jar');
    expect(bind(custom).environment).toEqual({});
  });

  test('without commands: unzip only, no scripts', () => {
    const config = bind(AppRuntime.custom({ installCommands: [], startCommand: './server' }));
    expect(config.installCommands).toEqual(['dnf install -y unzip']);
    expect(config.prepareCommands).toEqual([]);
  });

  test('a runtime script runs each command as written, in its directory, and stops at the first failure', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-script-'));
    try {
      const file = path.join(dir, 'script.sh');
      fs.writeFileSync(file, renderRuntimeScript(['printf \'%s|\' "(x)" \'it\'\\\'\'s\' > out.txt # a comment', 'false', 'touch after'], 'test', dir));
      const result = spawnSync('/bin/bash', [file], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(result.status).not.toBe(0);
      expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe("(x)|it's|");
      expect(fs.existsSync(path.join(dir, 'after'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['an empty install command', { installCommands: [''] }, "AppRuntime.custom() installCommands[0] ('') must be a non-empty command without NUL bytes"],
    ['a blank prepare command', { prepareCommands: ['ls', '  '] }, "AppRuntime.custom() prepareCommands[1] ('  ') must be a non-empty command"],
    ['a NUL byte', { installCommands: ['echo a\0b'] }, 'installCommands[0]'],
    ['a lone surrogate', { installCommands: ['echo \uD800'] }, 'must be valid Unicode'],
    ['no list', { installCommands: 'dnf install -y x' as any }, 'AppRuntime.custom() installCommands (\'dnf install -y x\') must be a list of shell commands'],
    ['a number', { installCommands: [1 as any] }, 'AppRuntime.custom() installCommands[0] (1) must be a string'],
    ['an empty start command', { startCommand: '' }, "AppRuntime.custom() startCommand ('') must be one non-empty line"],
    ['a two-line start command', { startCommand: 'a\nb' }, 'AppRuntime.custom() startCommand'],
  ])('%s is refused', (_, options, message) => {
    expect(() => bind(AppRuntime.custom({ installCommands: [], startCommand: './server', ...options }))).toThrow(message);
  });

  test('commands must be literals', () => {
    const stack = newStack();
    const command = new CfnParameter(stack, 'Command').valueAsString;
    expect(() => AppRuntime.custom({ installCommands: [command], startCommand: './server' }).bind(stack)).toThrow(/installCommands\[0\] .* must be a literal/);
  });
});

describe('the app tier with a runtime', () => {
  function synthApp(props: Partial<AppTierProps> = {}) {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const app = new AppTier(stack, 'App', { vpc, source: API_SOURCE, preset: PRESETS.dev(), ...props });
    const template = Template.fromStack(stack);
    return { app, script: launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate').id) };
  }

  test('without runtime and nodeVersion, the user data is that of AppRuntime.nodejs(22) and of nodeVersion 22', () => {
    const byDefault = synthApp().script;
    expect(byDefault.split('\n')).toContain('dnf install -y nodejs22 unzip');
    expect(synthApp({ runtime: AppRuntime.nodejs(22) }).script).toBe(byDefault);
    expect(synthApp({ nodeVersion: 22 }).script).toBe(byDefault);
  });

  test('the deprecated nodeVersion still selects the Node.js version, and its errors name it', () => {
    expect(synthApp({ nodeVersion: 24 }).script.split('\n')).toContain('dnf install -y nodejs24 unzip');
    expect(() => synthApp({ nodeVersion: 18 })).toThrow('nodeVersion (18) must be one of 20, 22, 24');
  });

  test('nodeVersion and runtime together are refused', () => {
    expect(() => synthApp({ nodeVersion: 22, runtime: AppRuntime.python() }))
      .toThrow('nodeVersion (22) cannot be given with runtime (nodeVersion is deprecated: use runtime: AppRuntime.nodejs(version)) in Stack/App');
  });

  test('Python: the packages, Gunicorn as the start command, PYTHONUNBUFFERED and no NODE_ENV', () => {
    const { app, script } = synthApp({ runtime: AppRuntime.python({ version: '3.12', workers: 3 }), port: 5000 });
    const lines = script.split('\n');
    expect(lines).toContain('dnf install -y python3.12 python3.12-pip unzip');
    expect(lines).toContain('python3.12 -m venv /opt/app/.venv');
    expect(lines.some((l) => l.includes('nodejs'))).toBe(false);
    const start = 'exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 3 app:app';
    expect(bootFile(script, APP_PATHS.startScript)).toBe(renderStartScript(start));
    expect(app.startCommand).toBe(start);
    expect(bootFile(script, APP_PATHS.environmentFile).split('\n')).toEqual(['AWS_REGION="<<{"Ref":"AWS::Region"}>>"', 'PORT="5000"', 'PYTHONUNBUFFERED="1"', '']);
  });

  test('startCommand overrides the runtime\'s; the user\'s environment overrides the runtime\'s', () => {
    const { app, script } = synthApp({
      runtime: AppRuntime.python(),
      startCommand: 'exec .venv/bin/gunicorn -c gunicorn.conf.py',
      environment: { PYTHONUNBUFFERED: '0' },
    });
    expect(app.startCommand).toBe('exec .venv/bin/gunicorn -c gunicorn.conf.py');
    expect(bootFile(script, APP_PATHS.environmentFile).split('\n')).toContain('PYTHONUNBUFFERED="0"');
  });

  test('the platform passes its app options\' runtime to the app tier', () => {
    const { platform, template } = synthPlatform('dev', { app: { source: API_SOURCE, runtime: AppRuntime.python({ version: '3.13' }) } });
    const script = launchTemplateUserData(template, onlyResource(template, 'AWS::EC2::LaunchTemplate', 'PlatformAppLaunchTemplate').id);
    expect(script.split('\n')).toContain('dnf install -y python3.13 python3.13-pip unzip');
    expect(platform.app.startCommand).toBe('exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 2 app:app');
  });

  test('a runtime error names the tier\'s path', () => {
    expect(() => synthApp({ runtime: AppRuntime.python({ workers: 0 }) })).toThrow(/workers \(0\) must be an integer from 1 to 64 in Stack\/App$/);
  });
});
