import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { APP_PATHS, renderRuntimeScript } from './boot';
import { writeFileCommands } from '../private/shell';
import { checkIntRange, checkStartCommand, checkString, invalid, literalNumber, literalString } from '../private/validation';

/** Node.js major versions installable from the Amazon Linux 2023 repositories. */
const NODE_VERSIONS = [20, 22, 24];

/**
 * Python versions of the Amazon Linux 2023 repositories: the packages that install them (3.9 is the
 * system Python, package `python3`) and the interpreter each installs in /usr/bin.
 */
const PYTHON_VERSIONS: { [version: string]: { readonly packages: string[]; readonly interpreter: string } } = {
  3.9: { packages: ['python3', 'python3-pip'], interpreter: 'python3.9' },
  3.11: { packages: ['python3.11', 'python3.11-pip'], interpreter: 'python3.11' },
  3.12: { packages: ['python3.12', 'python3.12-pip'], interpreter: 'python3.12' },
  3.13: { packages: ['python3.13', 'python3.13-pip'], interpreter: 'python3.13' },
};

/** A WSGI application as Gunicorn names it: a dotted module path, a colon, a dotted attribute path. */
const WSGI_APP = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Where the Python runtime creates the app's virtual environment. */
const VENV = `${APP_PATHS.appDirectory}/.venv`;

/**
 * What `AppRuntime.bind` gives the app tier's boot script.
 */
export interface AppRuntimeConfig {
  /** Commands run as root before the app is installed (install the interpreter; `unzip` included). */
  readonly installCommands: string[];
  /** Commands run as root after the app is in the app directory, before it starts (e.g. dependencies). */
  readonly prepareCommands: string[];
  /** The start command used when the app tier is given none. */
  readonly defaultStartCommand: string;
  /** Environment variables the runtime sets; the app tier's `environment` overrides them. */
  readonly environment: { [name: string]: string };
  /** What the runtime is, e.g. 'Node.js 22' or 'Python 3.11 (Gunicorn)'. */
  readonly description: string;
}

/**
 * Options of `AppRuntime.python()`.
 */
export interface PythonRuntimeOptions {
  /**
   * Python version, from the Amazon Linux 2023 repositories: '3.9' (the system Python, package
   * `python3`), '3.11', '3.12' or '3.13' (packages `python3.X`).
   *
   * @default '3.11'
   */
  readonly version?: string;

  /**
   * The WSGI application Gunicorn serves, as `module:callable` (dotted names allowed on both sides,
   * e.g. `myapi.wsgi:application`). Used by the default start command only.
   *
   * @default 'app:app' (the object `app` in app.py, e.g. a Flask app)
   */
  readonly wsgiApp?: string;

  /**
   * Number of Gunicorn worker processes (1 to 64). Used by the default start command only.
   *
   * @default 2
   */
  readonly workers?: number;
}

/**
 * Options of `AppRuntime.custom()`.
 */
export interface CustomRuntimeOptions {
  /**
   * Commands that install what the app needs (e.g. `dnf install -y java-21-amazon-corretto-headless`),
   * run as root by bash with `set -euo pipefail` before the app is installed. `unzip` (which the app
   * tier uses to unpack the app) is installed before them. May be empty. Literal text only: put
   * deploy-time values into files with the tier's `bootHooks` and read them from there.
   */
  readonly installCommands: string[];

  /**
   * The default start command (one line, run by `/bin/sh` in the app directory as the app user);
   * the app tier's `startCommand` overrides it.
   */
  readonly startCommand: string;

  /**
   * Commands run as root by bash with `set -euo pipefail`, in the app directory, after the app is
   * installed and before it starts (e.g. `npm ci --omit=dev`). The app directory is made read-only
   * to the app user afterwards.
   *
   * @default - none
   */
  readonly prepareCommands?: string[];
}

/**
 * What runs the app on the app tier's instances: `AppRuntime.nodejs()`, `AppRuntime.python()` or
 * `AppRuntime.custom()`. Every runtime installs from the Amazon Linux 2023 repositories at boot.
 */
export abstract class AppRuntime {
  /**
   * Node.js from the Amazon Linux 2023 repositories (package `nodejs<version>`, linked as
   * /usr/local/bin/node). Default start command: `node server.js`.
   *
   * @param version the major version: 20, 22 or 24. @default 22
   */
  public static nodejs(version?: number): AppRuntime {
    return new NodeRuntime(version ?? 22, 'AppRuntime.nodejs() version');
  }

  /**
   * Node.js of the app tier's deprecated `nodeVersion` prop: errors name that prop.
   *
   * @internal
   */
  public static _nodejsOfNodeVersionProp(version: number): AppRuntime {
    return new NodeRuntime(version, 'nodeVersion');
  }

  /**
   * Python from the Amazon Linux 2023 repositories, with the app in a virtual environment
   * (/opt/app/.venv) and served by Gunicorn (e.g. a Flask app).
   *
   * At boot, after the app is unpacked: `python3.X -m venv /opt/app/.venv`; when the app has a
   * `requirements.txt`, `pip install -r requirements.txt` into that environment. Gunicorn must be
   * listed there. When the app also has a `wheels/` directory, pip installs only from it
   * (`--no-index --find-links wheels`): an API in subnets without internet egress ships its
   * dependencies as wheels built for Amazon Linux 2023 (manylinux) and the instance's architecture,
   * e.g. `pip download --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11
   * -d wheels -r requirements.txt` (`manylinux2014_aarch64` for Graviton instance types). Without
   * `wheels/`, pip downloads from PyPI, which needs egress to the internet (NAT).
   *
   * Default start command: `exec /opt/app/.venv/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers 2 app:app`.
   */
  public static python(options: PythonRuntimeOptions = {}): AppRuntime {
    return new PythonRuntime(options);
  }

  /**
   * Any other runtime: commands that install it, the command that starts the app and, optionally,
   * commands that prepare the installed app. The commands are written into scripts on the instance
   * and run by bash, so none of them is parsed as part of the boot script itself.
   */
  public static custom(options: CustomRuntimeOptions): AppRuntime {
    return new CustomRuntime(options);
  }

  /**
   * Validates the runtime and gives the boot commands, the default start command and the
   * environment. Creates no resources: any construct can be the scope (it names the error's path).
   */
  public abstract bind(scope: IConstruct): AppRuntimeConfig;
}

class NodeRuntime extends AppRuntime {
  constructor(private readonly version: number, private readonly prop: string) {
    super();
  }

  public bind(scope: IConstruct): AppRuntimeConfig {
    const version = literalNumber(scope, this.prop, this.version, 'it names the package installed at boot');
    if (!NODE_VERSIONS.includes(version)) {
      invalid(scope, this.prop, version, `must be one of ${NODE_VERSIONS.join(', ')} (the Node.js versions in the Amazon Linux 2023 repositories)`);
    }
    return {
      installCommands: [
        `dnf install -y nodejs${version} unzip`,
        `ln -sf "$(command -v node-${version} || command -v node)" /usr/local/bin/node`,
      ],
      prepareCommands: [],
      defaultStartCommand: 'node server.js',
      environment: { NODE_ENV: 'production' },
      description: `Node.js ${version}`,
    };
  }
}

class PythonRuntime extends AppRuntime {
  constructor(private readonly options: PythonRuntimeOptions) {
    super();
  }

  public bind(scope: IConstruct): AppRuntimeConfig {
    const { version, wsgiApp, workers } = this.resolve(scope);
    const { packages, interpreter } = PYTHON_VERSIONS[version];
    const dir = APP_PATHS.appDirectory;
    const pip = `${VENV}/bin/pip install --no-cache-dir --disable-pip-version-check`;
    const requirements = `${dir}/requirements.txt`;
    const wheels = `${dir}/wheels`;
    return {
      installCommands: [`dnf install -y ${packages.join(' ')} unzip`],
      prepareCommands: [
        `${interpreter} -m venv ${VENV}`,
        `if [ -f ${requirements} ] && [ -d ${wheels} ]; then ${pip} --no-index --find-links ${wheels} -r ${requirements}; fi`,
        `if [ -f ${requirements} ] && [ ! -d ${wheels} ]; then ${pip} -r ${requirements}; fi`,
      ],
      defaultStartCommand: `exec ${VENV}/bin/gunicorn --bind 0.0.0.0:"$PORT" --workers ${workers} ${wsgiApp}`,
      environment: { PYTHONUNBUFFERED: '1' },
      description: `Python ${version} (Gunicorn)`,
    };
  }

  /** The options with their defaults, each checked. */
  private resolve(scope: IConstruct): { version: string; wsgiApp: string; workers: number } {
    const options = this.options ?? {};
    const version = literalString(scope, 'AppRuntime.python() version', options.version ?? '3.11', 'it names the package installed at boot');
    if (!Object.prototype.hasOwnProperty.call(PYTHON_VERSIONS, version)) {
      invalid(scope, 'AppRuntime.python() version', version, `must be one of ${Object.keys(PYTHON_VERSIONS).map((v) => `'${v}'`).join(', ')} (the Python versions in the Amazon Linux 2023 repositories)`);
    }
    const wsgiApp = literalString(scope, 'AppRuntime.python() wsgiApp', options.wsgiApp ?? 'app:app', 'it is written into the start script at synth time');
    if (!WSGI_APP.test(wsgiApp) || wsgiApp.length > 200) {
      invalid(scope, 'AppRuntime.python() wsgiApp', wsgiApp, "must be module:callable, each a dotted path of Python identifiers (letters, digits, _), e.g. 'app:app' or 'myapi.wsgi:application', at most 200 characters");
    }
    const workers = literalNumber(scope, 'AppRuntime.python() workers', options.workers ?? 2, 'it is written into the start script at synth time');
    checkIntRange(scope, 'AppRuntime.python() workers', workers, 1, 64);
    return { version, wsgiApp, workers };
  }
}

class CustomRuntime extends AppRuntime {
  constructor(private readonly options: CustomRuntimeOptions) {
    super();
  }

  public bind(scope: IConstruct): AppRuntimeConfig {
    const options = this.options ?? ({} as CustomRuntimeOptions);
    const install = checkCommands(scope, 'AppRuntime.custom() installCommands', options.installCommands);
    const prepare = checkCommands(scope, 'AppRuntime.custom() prepareCommands', options.prepareCommands ?? []);
    checkStartCommand(scope, 'AppRuntime.custom() startCommand', options.startCommand);
    return {
      installCommands: ['dnf install -y unzip', ...runScriptCommands(APP_PATHS.installScript, install, 'installCommands, run as root before the app is installed')],
      prepareCommands: runScriptCommands(APP_PATHS.prepareScript, prepare, 'prepareCommands, run as root in the app directory after the app is installed', APP_PATHS.appDirectory),
      defaultStartCommand: options.startCommand,
      environment: {},
      description: 'custom runtime',
    };
  }
}

/** The commands that write a runtime script and run it (none for no commands). */
function runScriptCommands(path: string, commands: string[], purpose: string, directory?: string): string[] {
  if (commands.length === 0) return [];
  return [
    ...writeFileCommands({ path, content: renderRuntimeScript(commands, purpose, directory), mode: '0700' }),
    `/bin/bash ${path}`,
  ];
}

/** Validates a list of shell commands a user gives: literal, non-empty strings without NUL bytes. */
function checkCommands(scope: IConstruct, prop: string, commands: string[]): string[] {
  if (!Array.isArray(commands)) invalid(scope, prop, commands, 'must be a list of shell commands');
  commands.forEach((command, i) => {
    checkString(scope, `${prop}[${i}]`, command);
    if (Token.isUnresolved(command)) invalid(scope, `${prop}[${i}]`, command, 'must be a literal (it is written into a script at synth time)');
    if (command.trim() === '' || command.includes('\0')) {
      invalid(scope, `${prop}[${i}]`, command, 'must be a non-empty command without NUL bytes');
    }
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(command)) {
      invalid(scope, `${prop}[${i}]`, command, 'must be valid Unicode (a lone surrogate cannot be written as UTF-8)');
    }
  });
  return commands;
}
