/*
 * The Python example API (examples/python-api: Flask, PyMySQL, gunicorn) on the local tiers, run the
 * way the app tier runs it on an instance:
 *   - the app is copied into an app directory, and the Python runtime's own prepare commands
 *     (AppRuntime.python().bind(): the venv, pip install -r requirements.txt) run there;
 *   - the environment file, start script and unit are the library's renderers' output
 *     (renderEnvironmentFile, renderStartScript with the runtime's default start command, renderAppUnit);
 *   - the API starts as the unit's ExecStart=, in its WorkingDirectory=, with the unit's Environment=
 *     and its EnvironmentFile= read by systemd's own parser (test/support/systemd-env.ts);
 *   - NGINX runs the configuration the library renders (renderNginxConfig) in front of it.
 * What differs from an instance: the instance's fixed paths (/opt/app, /etc/cdk-three-tier) are mapped
 * to a temporary directory, and the API runs as the harness's user (no User=, no sandboxing).
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Construct } from 'constructs';
import { freePort, ManagedProcess, Resources, waitFor } from './processes';
import { LocalStack, REGION, which } from './stack';
import { AppRuntime } from '../../../src/app/app-runtime';
import { APP_PATHS, renderAppUnit, renderStartScript } from '../../../src/app/boot';
import { renderAppUserSql } from '../../../src/data/app-user-sql';
import { quoteSqlIdentifier } from '../../../src/private/sql';
import { renderEnvironmentFile } from '../../../src/private/systemd';
import { renderNginxConfig } from '../../../src/web/nginx-config';
import { SystemdEnvParser } from '../../../test/support/systemd-env';

export const PYTHON_APP_SOURCE = resolve(__dirname, '..', '..', '..', 'examples', 'python-api');
/** The Python API's own database and app user (created by the data tier's SQL, like the store's). */
export const PYTHON_DB = 'notes';
export const PYTHON_DB_USER = 'notes';

/** Only plain path characters: the mapped paths are put into shell commands as they are. */
const PLAIN_PATH = /^[A-Za-z0-9/._-]+$/;

/** One running API instance (gunicorn from the rendered unit). */
export interface PythonInstance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
  /** The environment the unit gives the process (Environment= and the parsed EnvironmentFile=). */
  readonly environment: Record<string, string>;
}

/** The `[Service]` entries of a rendered unit, in order. */
function serviceEntries(unit: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    else if (section === 'Service' && line.includes('=')) entries.push([line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  }
  return entries;
}

/** One value of a unit line the harness can use as it is (no quoting, escapes, specifiers or variables). */
function plainUnitValue(key: string, value: string): string {
  if (/["'\\%$]/.test(value)) throw new Error(`the harness cannot apply ${key}=${value} (quotes, escapes, specifiers or variables)`);
  return value;
}

/**
 * The Python API: prepared (venv, dependencies) in the background while the other tiers start,
 * then started from the rendered unit, behind its own NGINX.
 */
export class PythonApi {
  /** Copies the app and starts the runtime's prepare commands in the background (see `ready`). */
  public static prepare(log: (msg: string) => void): PythonApi {
    return new PythonApi(log);
  }

  public readonly resources = new Resources();
  public readonly root: string;
  public readonly appDir: string;
  public readonly logDir: string;
  public readonly instances: PythonInstance[] = [];
  public nginxPort = 0;
  /** Seconds the preparation took (venv and pip). */
  public prepareSeconds = 0;
  private readonly prepared: Promise<void>;
  private started?: Promise<void>;
  private secretArn = '';
  private readonly runtime = AppRuntime.python().bind(new Construct(undefined as any, 'LocalPythonApi'));
  private parser?: SystemdEnvParser;

  private constructor(private readonly log: (msg: string) => void) {
    this.root = this.resources.tempDir('python-api-local-');
    chmodSync(this.root, 0o711);
    this.appDir = join(this.root, 'app');
    this.logDir = join(this.root, 'logs');
    mkdirSync(this.logDir);
    if (!PLAIN_PATH.test(this.root)) throw new Error(`the temporary directory ${this.root} has characters the harness does not quote`);
    this.prepared = this.runPrepare();
    // Awaited in start(); a failure is reported there.
    this.prepared.catch(() => undefined);
  }

  /** The API through NGINX. */
  public get url(): string {
    return `http://127.0.0.1:${this.nginxPort}`;
  }

  /** An instance path (/opt/app/..., /etc/cdk-three-tier/...) mapped into this run's directory. */
  public localPath(instancePath: string, configDir: string): string {
    return instancePath
      .split(APP_PATHS.appDirectory).join(this.appDir)
      .split(APP_PATHS.configDirectory).join(configDir);
  }

  /**
   * Waits for the preparation, then (once) creates the API's database, user and secret, starts one API
   * instance against the stack's MariaDB, and NGINX in front of it.
   */
  public ready(stack: LocalStack): Promise<void> {
    this.started ??= this.start(stack);
    return this.started;
  }

  private async start(stack: LocalStack): Promise<void> {
    await this.prepared;
    const password = `pw-${randomBytes(16).toString('hex')}`;
    await stack.sql(`CREATE DATABASE ${quoteSqlIdentifier(PYTHON_DB)} CHARACTER SET utf8mb4`);
    for (const statement of renderAppUserSql({ username: PYTHON_DB_USER, databaseName: PYTHON_DB, password })) await stack.sql(statement);
    const sm = new SecretsManagerClient({ region: REGION, endpoint: stack.motoEndpoint, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    try {
      const secret = await sm.send(new CreateSecretCommand({
        Name: 'notes/local/db',
        SecretString: JSON.stringify({ engine: 'mysql', username: PYTHON_DB_USER, password, host: 'secret-host.invalid', port: 3306, dbname: PYTHON_DB }),
      }));
      this.secretArn = secret.ARN!;
    } finally {
      sm.destroy();
    }
    const app = await this.startInstance('python-api', this.environment(stack));
    await this.startNginx(app.port);
    this.log(`  Python API (${this.runtime.description}) prepared in ${this.prepareSeconds.toFixed(1)} s, on port ${app.port}, its NGINX on ${this.url}`);
  }

  /** The environment the harness gives the API: what the app tier sets, pointed at the local tiers. */
  public environment(stack: LocalStack, port = 0): Record<string, string> {
    return {
      ...this.runtime.environment,
      PORT: String(port),
      DB_HOST: '127.0.0.1',
      DB_PORT: String(stack.dbPort),
      DB_NAME: PYTHON_DB,
      // As the store app's local run: the credentials from moto's Secrets Manager (MariaDB has no IAM
      // plugin; tests/python-api.ts checks the IAM token path against the fake RDS server).
      DB_SECRET_ARN: this.secretArn,
      DB_TLS: 'required',
      DB_TLS_CA_FILE: stack.dbCaFile!,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: stack.motoEndpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    };
  }

  /**
   * Writes the environment file, start script and unit as the library renders them (paths mapped),
   * and starts the unit's ExecStart= with the unit's environment. `PORT` is set to a free port.
   */
  public async startInstance(name: string, environment: Record<string, string>, wait = true): Promise<PythonInstance> {
    const port = await freePort();
    const configDir = join(this.root, name, 'etc');
    mkdirSync(configDir, { recursive: true });
    const envFile = this.localPath(APP_PATHS.environmentFile, configDir);
    writeFileSync(envFile, renderEnvironmentFile({ ...environment, PORT: String(port) }), { mode: 0o640 });
    const startScript = renderStartScript(this.runtime.defaultStartCommand);
    writeFileSync(this.localPath(APP_PATHS.startScript, configDir), this.localPath(startScript, configDir), { mode: 0o755 });
    const unit = renderAppUnit();
    writeFileSync(join(configDir, 'app.service'), unit);

    const env: Record<string, string> = {};
    let cwd = '/';
    let execStart: string[] | undefined;
    for (const [key, value] of serviceEntries(unit)) {
      if (key === 'Environment') {
        const assignment = plainUnitValue(key, value);
        env[assignment.slice(0, assignment.indexOf('='))] = assignment.slice(assignment.indexOf('=') + 1);
      } else if (key === 'EnvironmentFile') {
        const file = this.localPath(plainUnitValue(key, value), configDir);
        this.parser ??= SystemdEnvParser.create();
        const [parsed] = this.parser.parse([readFileSync(file)]);
        if (parsed!.status !== 0) throw new Error(`systemd would not load ${value} (load_env_file: ${parsed!.status})`);
        for (const [k, v] of parsed!.entries) env[k] = v;
      } else if (key === 'WorkingDirectory') {
        cwd = this.localPath(plainUnitValue(key, value), configDir);
      } else if (key === 'ExecStart') {
        execStart = plainUnitValue(key, value).split(/\s+/).map((word) => this.localPath(word, configDir));
      }
    }
    if (!execStart) throw new Error('the rendered unit has no ExecStart=');
    // systemd sets HOME for User=app, whose home is the app directory.
    env.HOME ??= this.appDir;
    const proc = this.resources.spawn(name, execStart[0]!, execStart.slice(1), join(this.logDir, `${name}.log`), { env, cwd });
    const instance: PythonInstance = { name, port, url: `http://127.0.0.1:${port}`, process: proc, environment: env };
    this.instances.push(instance);
    if (wait) {
      await waitFor(`${name} /healthz`, async () => {
        const res = await fetch(`${instance.url}/healthz`, { signal: AbortSignal.timeout(3000) });
        await res.arrayBuffer();
        return res.status === 200;
      }, 60_000, () => proc.exitError());
    }
    return instance;
  }

  /** Stops everything and removes the directory (unless `keepDirs`). */
  public async stop(keepDirs = false): Promise<void> {
    this.parser?.dispose();
    this.parser = undefined;
    // Stops pip too, if it is still running (no Python test ran).
    await this.resources.stopAll(keepDirs);
    await this.prepared.catch(() => undefined);
  }

  /** The last lines of each log (after a failure). */
  public printLogTails(lines = 15): void {
    for (const name of ['prepare', ...this.instances.map((i) => i.name), 'nginx-error']) {
      let content = '';
      try {
        content = readFileSync(join(this.logDir, `${name}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        continue;
      }
      if (content) this.log(`--- python ${name}.log (last ${lines} lines) ---\n${content}`);
    }
  }

  /** The app, unpacked; then the runtime's prepare commands (venv, pip), by bash as the boot script runs them. */
  private async runPrepare(): Promise<void> {
    const started = Date.now();
    cpSync(PYTHON_APP_SOURCE, this.appDir, {
      recursive: true,
      filter: (src) => !/(^|\/)(__pycache__|\.venv)(\/|$)/.test(src.slice(PYTHON_APP_SOURCE.length)),
    });
    const commands = this.runtime.prepareCommands.map((c) => this.localPath(c, join(this.root, 'etc')));
    const script = ['set -euo pipefail', `cd ${this.appDir}`, ...commands].join('\n');
    // pip looks in every configured index; where one is unreachable, one retry instead of five.
    const env = { ...process.env, PIP_RETRIES: process.env.PIP_RETRIES ?? '1' };
    // At the lowest CPU priority: it runs beside the other tiers' start and the first tests, which must not slow down.
    const proc = this.resources.spawn('prepare', 'nice', ['-n', '19', 'bash', '-c', script], join(this.logDir, 'prepare.log'), {
      env,
      cwd: this.appDir,
    });
    await proc.exited;
    if (proc.exitCode !== 0) {
      throw new Error(`the Python runtime's prepare commands failed (exit ${proc.exitCode}); see ${proc.logFile}:\n`
        + readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-15).join('\n'));
    }
    this.prepareSeconds = (Date.now() - started) / 1000;
  }

  private async startNginx(apiPort: number): Promise<void> {
    const nginx = which(['nginx']);
    const dir = join(this.root, 'nginx');
    const staticRoot = join(dir, 'html');
    const tempDir = join(dir, 'temp');
    for (const d of [dir, tempDir, staticRoot]) mkdirSync(d, { recursive: true, mode: 0o755 });
    writeFileSync(join(staticRoot, 'index.html'), '<!doctype html><title>notes</title>\n', { mode: 0o644 });
    this.nginxPort = await freePort();
    const configFile = join(dir, 'nginx.conf');
    writeFileSync(configFile, renderNginxConfig({
      apiUpstreams: [`127.0.0.1:${apiPort}`],
      apiExactPaths: ['/healthz'],
      listenAddress: '127.0.0.1',
      listenPort: this.nginxPort,
      staticRoot,
      user: '',
      pidFile: join(dir, 'nginx.pid'),
      logDirectory: this.logDir,
      tempDirectory: tempDir,
      mimeTypesPath: '/etc/nginx/mime.types',
    }));
    const errorLog = join(this.logDir, 'nginx-error.log');
    try {
      execFileSync(nginx, ['-t', '-q', '-c', configFile, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new Error(`nginx -t rejected the rendered configuration:\n${(err as { stderr?: Buffer }).stderr?.toString() ?? ''}`);
    }
    const proc = this.resources.spawn('python-nginx', nginx, ['-c', configFile, '-e', errorLog, '-g', 'daemon off;'], join(this.logDir, 'nginx.log'));
    await waitFor('NGINX (Python API)', async () => (await fetch(`${this.url}/nginx-health`, { signal: AbortSignal.timeout(2000) })).ok, 30_000, () => proc.exitError());
  }
}
