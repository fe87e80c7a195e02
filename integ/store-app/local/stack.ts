/*
 * The three tiers on this machine, on 127.0.0.1 and free ports:
 *   MariaDB (data tier) + moto (Secrets Manager, S3) -> API processes (app tier) -> NGINX (web tier)
 * NGINX runs exactly the configuration the library renders for the web tier's instances.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import mysql from 'mysql2/promise';
import { freePort, ManagedProcess, Resources, stopOnSignals, waitFor } from './processes';
import { renderAppUserSql } from '../../../src/data/app-user-sql';
import { quoteSqlIdentifier } from '../../../src/private/sql';
import { renderNginxConfig } from '../../../src/web/nginx-config';

export const STORE_APP_DIR = resolve(__dirname, '..');
export const REPO_ROOT = resolve(STORE_APP_DIR, '..', '..');
export const SERVER_JS = join(STORE_APP_DIR, 'dist', 'app', 'server.js');
export const REGION = 'us-east-1';
export const BUCKET = 'store-local-assets';
/** The API's database user (the data tier's `appUsername`). */
export const DB_USER = 'store';
export const MAIN_DB = 'store';

/** One API process. */
export interface AppInstance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly process: ManagedProcess;
}

export interface StartAppOptions {
  readonly name: string;
  /** Database name (DB_NAME); default: the secret's `dbname` (the main database). */
  readonly database?: string;
  /** Extra or overriding environment variables. */
  readonly env?: Record<string, string>;
  /** Wait until `/readyz` (ready) or `/healthz` (healthy) answers 200, or not at all. @default 'ready' */
  readonly wait?: 'ready' | 'healthy' | 'none';
}

export interface LocalStackOptions {
  /** API processes behind NGINX. @default 2 */
  readonly appCount?: number;
  /** Extra empty databases to create (the app user may use them). */
  readonly extraDatabases?: string[];
  /** Progress output. */
  readonly log?: (msg: string) => void;
  /** Stop everything and exit on SIGINT/SIGTERM (also during start). @default true */
  readonly stopOnSignals?: boolean;
}

export function which(names: string[], extraDirs: string[] = ['/usr/sbin', '/usr/local/sbin', '/sbin']): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), ...extraDirs].filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`none of ${names.join(', ')} found on PATH; install the Debian packages: apt-get install -y mariadb-server nginx`);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Starts MariaDB, moto, the API processes and NGINX; `stop()` stops them all and removes the temporary
 * directory.
 */
export class LocalStack {
  public static async start(options: LocalStackOptions = {}): Promise<LocalStack> {
    const stack = new LocalStack(options.log ?? ((m) => process.stdout.write(`${m}\n`)));
    if (options.stopOnSignals ?? true) stopOnSignals(stack.resources);
    try {
      await stack.startAll(options);
    } catch (err) {
      stack.log(`start failed: ${err instanceof Error ? err.message : String(err)}`);
      await stack.printLogTails();
      await stack.stop();
      throw err;
    }
    return stack;
  }

  public readonly resources = new Resources();
  public readonly root: string;
  public readonly logDir: string;
  public readonly apps: AppInstance[] = [];
  public dbPort = 0;
  public dbSocket = '';
  public dbPassword = '';
  /** CA file for the MariaDB server certificate (for `DB_TLS=required`). */
  public dbCaFile?: string;
  /** Private key of the MariaDB server certificate (for other local servers with the same name). */
  public dbKeyFile = '';
  public motoEndpoint = '';
  public secretArn = '';
  public nginxPort = 0;
  public nginxConfigFile = '';
  public staticRoot = '';
  private mariadb?: ManagedProcess;
  private rootPool?: mysql.Pool;

  private constructor(public readonly log: (msg: string) => void) {
    this.root = this.resources.tempDir('store-local-');
    // NGINX workers may run as an unprivileged user: they must be able to traverse this directory.
    chmodSync(this.root, 0o711);
    this.logDir = join(this.root, 'logs');
    mkdirSync(this.logDir);
  }

  /** The site, through NGINX. */
  public get url(): string {
    return `http://127.0.0.1:${this.nginxPort}`;
  }

  /** Runs SQL as MariaDB's root user (over the socket). */
  public async sql<T = mysql.RowDataPacket[]>(statement: string, params: unknown[] = []): Promise<T> {
    this.rootPool ??= mysql.createPool({ socketPath: this.dbSocket, user: 'root', password: '', connectionLimit: 4, timezone: 'Z' });
    const [rows] = await this.rootPool.query(statement, params);
    return rows as T;
  }

  /** An S3 client for moto. */
  public s3(): S3Client {
    return new S3Client({ region: REGION, endpoint: this.motoEndpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  }

  /** Starts one API process (the bundled server.js) pointing at the local MariaDB and moto. */
  public async startApp(options: StartAppOptions): Promise<AppInstance> {
    const port = await freePort();
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.root,
      PORT: String(port),
      HOST: '127.0.0.1',
      DB_HOST: '127.0.0.1',
      DB_PORT: String(this.dbPort),
      DB_SECRET_ARN: this.secretArn,
      DB_TLS: 'preferred',
      APP_BUCKET: BUCKET,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: this.motoEndpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'info',
      ...(options.database ? { DB_NAME: options.database } : {}),
      ...options.env,
    };
    const proc = this.resources.spawn(options.name, process.execPath, [SERVER_JS], join(this.logDir, `${options.name}.log`), { env, cwd: this.root });
    const app: AppInstance = { name: options.name, port, url: `http://127.0.0.1:${port}`, process: proc };
    const wait = options.wait ?? 'ready';
    if (wait !== 'none') await this.waitReady(app, wait === 'ready' ? '/readyz' : '/healthz');
    return app;
  }

  /** Waits until `/readyz` (or another path) of an app answers 200. */
  public async waitReady(app: AppInstance, path = '/readyz', timeoutMs = 60_000): Promise<void> {
    await waitFor(`${app.name} ${path}`, async () => {
      const res = await fetch(`${app.url}${path}`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      return res.status === 200;
    }, timeoutMs, () => app.process.exitError());
  }

  /** Prints the last lines of every log (after a failure). */
  public async printLogTails(lines = 15): Promise<void> {
    if (!existsSync(this.logDir)) return;
    for (const f of readdirSync(this.logDir).filter((n) => n !== 'access.log')) {
      const content = readFileSync(join(this.logDir, f), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      if (content) this.log(`--- ${f} (last ${lines} lines) ---\n${content}`);
    }
  }

  /** Stops everything; removes the temporary directory unless `keepDirs`. */
  public async stop(keepDirs = false): Promise<void> {
    this.resources.defer(async () => {
      const pool = this.rootPool;
      this.rootPool = undefined;
      await pool?.end();
    });
    await this.resources.stopAll(keepDirs);
  }

  private async startAll(options: LocalStackOptions): Promise<void> {
    const t0 = Date.now();
    await Promise.all([this.startMariaDb(options.extraDatabases ?? []), this.startMoto()]);
    await this.seedAws();
    this.log(`  MariaDB on 127.0.0.1:${this.dbPort}, moto on ${this.motoEndpoint} (${Date.now() - t0} ms)`);
    const count = options.appCount ?? 2;
    const apps = await Promise.all(Array.from({ length: count }, (_, i) => this.startApp({ name: `app-${i + 1}` })));
    this.apps.push(...apps);
    this.log(`  API processes on ports ${apps.map((a) => a.port).join(', ')} (${Date.now() - t0} ms)`);
    await this.startNginx();
    this.log(`  NGINX on ${this.url} (${Date.now() - t0} ms)`);
  }

  private async startMariaDb(extraDatabases: string[]): Promise<void> {
    const mariadbd = which(['mariadbd', 'mysqld']);
    const installDb = which(['mariadb-install-db', 'mysql_install_db']);
    const dir = join(this.root, 'mariadb');
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const userArgs = isRoot() ? ['--user=root'] : [];
    execFileSync(installDb, [
      '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });

    // TLS, as on RDS: the app user is created with REQUIRE SSL, and DB_TLS=preferred really
    // negotiates it. Needs the openssl CLI.
    const cert = join(dir, 'server-cert.pem');
    const key = join(dir, 'server-key.pem');
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
      ], { stdio: 'ignore' });
    } catch (err) {
      throw new Error(`openssl could not create the MariaDB server certificate (install the openssl package): ${String(err)}`);
    }
    const tlsArgs = [`--ssl-cert=${cert}`, `--ssl-key=${key}`, `--ssl-ca=${cert}`];
    this.dbCaFile = cert;
    this.dbKeyFile = key;

    this.dbPort = await freePort();
    this.dbSocket = join(dir, 'mysqld.sock');
    this.mariadb = this.resources.spawn('mariadb', mariadbd, [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--socket=${this.dbSocket}`,
      `--port=${this.dbPort}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      '--skip-name-resolve',
      '--max-connections=400',
      '--innodb-buffer-pool-size=128M',
      '--innodb-flush-log-at-trx-commit=2',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_general_ci',
      ...tlsArgs,
      ...userArgs,
    ], join(this.logDir, 'mariadb.log'));
    const mariadb = this.mariadb;
    await waitFor('MariaDB', async () => {
      const conn = await mysql.createConnection({ socketPath: this.dbSocket, user: 'root', password: '' });
      await conn.end();
      return true;
    }, 60_000, () => mariadb.exitError());

    this.dbPassword = `pw-${randomBytes(16).toString('hex')}`;
    for (const db of [MAIN_DB, ...extraDatabases]) {
      await this.sql(`CREATE DATABASE ${quoteSqlIdentifier(db)} CHARACTER SET utf8mb4`);
    }
    // The API's user, created by the SQL the data tier's custom resource runs on RDS: the same grants,
    // a password instead of the RDS IAM plugin (MariaDB has none).
    for (const db of [MAIN_DB, ...extraDatabases]) {
      for (const statement of renderAppUserSql({ username: DB_USER, databaseName: db, password: this.dbPassword })) {
        await this.sql(statement);
      }
    }
  }

  private async startMoto(): Promise<void> {
    const port = await freePort();
    this.motoEndpoint = `http://127.0.0.1:${port}`;
    const moto = this.resources.spawn('moto', which(['moto_server'], []), ['-H', '127.0.0.1', '-p', String(port)], join(this.logDir, 'moto.log'), {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_DEFAULT_REGION: REGION },
    });
    await waitFor('moto', async () => (await fetch(`${this.motoEndpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) })).ok, 60_000, () => moto.exitError());
  }

  /** What the platform does at deploy time: the DB secret, the bucket, the product images. */
  private async seedAws(): Promise<void> {
    const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
    const sm = new SecretsManagerClient({ region: REGION, endpoint: this.motoEndpoint, credentials });
    const secret = await sm.send(new CreateSecretCommand({
      Name: 'store/local/db',
      // Shaped like an RDS-generated secret. host deliberately differs: DB_HOST in the environment wins.
      SecretString: JSON.stringify({ engine: 'mysql', username: DB_USER, password: this.dbPassword, host: 'secret-host.invalid', port: 3306, dbname: MAIN_DB }),
    }));
    sm.destroy();
    this.secretArn = secret.ARN!;

    const s3 = this.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const imageDir = join(STORE_APP_DIR, 'images');
    for (const f of readdirSync(imageDir).filter((n) => n.endsWith('.svg')).sort()) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `products/${f}`, Body: readFileSync(join(imageDir, f)), ContentType: 'image/svg+xml' }));
    }
    s3.destroy();
  }

  private async startNginx(): Promise<void> {
    const nginx = which(['nginx']);
    const dir = join(this.root, 'nginx');
    this.staticRoot = join(dir, 'html');
    const tempDir = join(dir, 'temp');
    const logDir = this.logDir;
    for (const d of [dir, tempDir]) mkdirSync(d, { recursive: true, mode: 0o755 });
    cpSync(join(STORE_APP_DIR, 'web'), this.staticRoot, { recursive: true });
    // cpSync keeps the source modes; make the site readable by unprivileged workers.
    chmodSync(this.staticRoot, 0o755);
    for (const f of readdirSync(this.staticRoot)) chmodSync(join(this.staticRoot, f), 0o644);

    this.nginxPort = await freePort();
    const config = renderNginxConfig({
      apiUpstreams: this.apps.map((a) => `127.0.0.1:${a.port}`),
      apiExactPaths: ['/readyz'],
      listenAddress: '127.0.0.1',
      listenPort: this.nginxPort,
      staticRoot: this.staticRoot,
      // No `user` directive: as root, workers run as NGINX's compiled-in unprivileged default.
      user: '',
      pidFile: join(dir, 'nginx.pid'),
      logDirectory: logDir,
      tempDirectory: tempDir,
      mimeTypesPath: '/etc/nginx/mime.types',
    });
    this.nginxConfigFile = join(dir, 'nginx.conf');
    writeFileSync(this.nginxConfigFile, config);
    const errorLog = join(logDir, 'error.log');
    try {
      execFileSync(nginx, ['-t', '-q', '-c', this.nginxConfigFile, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`nginx -t rejected the rendered configuration:\n${stderr}`);
    }
    const proc = this.resources.spawn('nginx', nginx, ['-c', this.nginxConfigFile, '-e', errorLog, '-g', 'daemon off;'], join(this.logDir, 'nginx.log'));
    await waitFor('NGINX', async () => (await fetch(`${this.url}/nginx-health`, { signal: AbortSignal.timeout(2000) })).ok, 30_000, () => proc.exitError());
  }
}
