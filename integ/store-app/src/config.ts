import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** How the API connects to MySQL/MariaDB over TLS. */
export type DbTlsMode = 'required' | 'preferred' | 'off';

/**
 * How the API authenticates: `password` (from `DB_SECRET_ARN` or `DB_PASSWORD`), or `iam` (RDS IAM
 * database authentication: a token signed with the instance role for each new connection).
 */
export type DbAuthMode = 'password' | 'iam';

/** Database connection settings once the secret has been read. */
export interface DbSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly auth: DbAuthMode;
  /** The password (`password` mode only). */
  readonly password?: string;
  /** Region of the database, for signing IAM tokens. */
  readonly region: string;
  readonly tls: DbTlsMode;
  /** PEM file with the CA(s) trusted in `required` mode; default: the Amazon RDS CA bundle. */
  readonly tlsCaFile?: string;
  readonly poolSize: number;
}

/** Everything read from the environment (secrets not yet resolved). */
export interface EnvConfig {
  readonly port: number;
  readonly host: string;
  readonly region: string;
  readonly bucket: string;
  /** Path-style S3 URLs: on when an endpoint override is set (a local emulator at an IP address). */
  readonly s3ForcePathStyle: boolean;
  readonly maxUploadBytes: number;
  readonly logLevel: string;
  readonly db: {
    readonly host?: string;
    readonly port?: number;
    readonly database?: string;
    readonly secretArn?: string;
    readonly user?: string;
    readonly password?: string;
    readonly auth: DbAuthMode;
    readonly tls: DbTlsMode;
    readonly tlsCaFile?: string;
    readonly poolSize: number;
  };
}

/** A configuration problem the operator must fix; the process exits with a clear message. */
export class ConfigError extends Error {}

export const DEFAULT_MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  }
  return value;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

/**
 * Reads the configuration from environment variables (see the README for the full list).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConfig {
  const bucket = nonEmpty(env, 'APP_BUCKET');
  if (!bucket) throw new ConfigError('APP_BUCKET must name the S3 bucket holding product images and uploads');

  const auth = (nonEmpty(env, 'DB_AUTH') ?? 'password') as DbAuthMode;
  if (!['password', 'iam'].includes(auth)) {
    throw new ConfigError(`DB_AUTH must be one of password, iam; got '${auth}'`);
  }
  // An IAM token travels as a clear-text password: only over a verified TLS connection.
  const tls = (nonEmpty(env, 'DB_TLS') ?? (auth === 'iam' ? 'required' : 'preferred')) as DbTlsMode;
  if (!['required', 'preferred', 'off'].includes(tls)) {
    throw new ConfigError(`DB_TLS must be one of required, preferred, off; got '${tls}'`);
  }
  const region = nonEmpty(env, 'AWS_REGION') ?? nonEmpty(env, 'AWS_DEFAULT_REGION');
  if (!region) throw new ConfigError('AWS_REGION must be set (the region of the bucket and the secret)');
  const secretArn = nonEmpty(env, 'DB_SECRET_ARN');
  const user = nonEmpty(env, 'DB_USER');
  if (auth === 'iam') {
    if (tls !== 'required') throw new ConfigError(`DB_AUTH=iam sends a token as a clear-text password: DB_TLS must be required, got '${tls}'`);
    if (!user) throw new ConfigError('DB_AUTH=iam needs DB_USER (the database user the instance role may connect as)');
    if (!nonEmpty(env, 'DB_HOST')) throw new ConfigError('DB_AUTH=iam needs DB_HOST (tokens are signed for the host name)');
    if (secretArn || env.DB_PASSWORD) throw new ConfigError('DB_AUTH=iam takes no DB_SECRET_ARN or DB_PASSWORD (the token is the password)');
  } else if (!secretArn && !user) {
    throw new ConfigError('DB_SECRET_ARN must name the Secrets Manager secret with the database credentials (or set DB_USER and DB_PASSWORD, or DB_AUTH=iam and DB_USER)');
  }

  return {
    port: intFrom(env, 'PORT', 8080, 1, 65535)!,
    host: nonEmpty(env, 'HOST') ?? '0.0.0.0',
    region,
    bucket,
    s3ForcePathStyle: Boolean(nonEmpty(env, 'AWS_ENDPOINT_URL') ?? nonEmpty(env, 'AWS_ENDPOINT_URL_S3')),
    maxUploadBytes: intFrom(env, 'MAX_UPLOAD_BYTES', DEFAULT_MAX_UPLOAD_BYTES, 1, 1024 * 1024 * 1024)!,
    logLevel: nonEmpty(env, 'LOG_LEVEL') ?? 'info',
    db: {
      host: nonEmpty(env, 'DB_HOST'),
      port: intFrom(env, 'DB_PORT', undefined, 1, 65535),
      database: nonEmpty(env, 'DB_NAME'),
      secretArn,
      user,
      password: env.DB_PASSWORD,
      auth,
      tls,
      tlsCaFile: nonEmpty(env, 'DB_TLS_CA_FILE'),
      poolSize: intFrom(env, 'DB_POOL_SIZE', 10, 1, 1000)!,
    },
  };
}

/** The fields of an RDS-style secret the app understands. */
interface DbSecret {
  readonly username?: unknown;
  readonly password?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  readonly dbname?: unknown;
}

/**
 * Merges the secret's contents with the environment. Credentials come from the secret; host, port and
 * database name come from the environment when set there, else from the secret, else defaults.
 */
export function mergeDbSettings(config: EnvConfig, secret: DbSecret | undefined): DbSettings {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const iam = config.db.auth === 'iam';
  const user = secret ? str(secret.username) : config.db.user;
  const password = iam ? undefined : secret ? (typeof secret.password === 'string' ? secret.password : undefined) : config.db.password;
  if (!user || (!iam && password === undefined)) {
    throw new ConfigError(iam ? 'DB_USER must be set' : secret ? 'the database secret must contain string fields username and password' : 'DB_USER and DB_PASSWORD must be set');
  }
  const secretPort = secret && (typeof secret.port === 'number' || typeof secret.port === 'string') ? Number(secret.port) : undefined;
  const host = config.db.host ?? (secret ? str(secret.host) : undefined);
  if (!host) throw new ConfigError('DB_HOST is not set and the secret has no host');
  return {
    host,
    port: config.db.port ?? (secretPort && Number.isInteger(secretPort) ? secretPort : 3306),
    database: config.db.database ?? (secret ? str(secret.dbname) : undefined) ?? 'store',
    user,
    auth: config.db.auth,
    password,
    region: config.region,
    tls: config.db.tls,
    tlsCaFile: config.db.tlsCaFile,
    poolSize: config.db.poolSize,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads the database secret from Secrets Manager (retrying briefly: the endpoint or the network may
 * not be ready when an instance boots) and merges it with the environment.
 */
export async function resolveDbSettings(config: EnvConfig, attempts = 10): Promise<DbSettings> {
  if (config.db.auth === 'iam' || !config.db.secretArn) return mergeDbSettings(config, undefined);
  const client = new SecretsManagerClient({ region: config.region });
  try {
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: config.db.secretArn }));
        if (!out.SecretString) throw new ConfigError(`secret ${config.db.secretArn} has no SecretString`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(out.SecretString);
        } catch {
          throw new ConfigError(`secret ${config.db.secretArn} is not JSON`);
        }
        if (typeof parsed !== 'object' || parsed === null) throw new ConfigError(`secret ${config.db.secretArn} is not a JSON object`);
        return mergeDbSettings(config, parsed as DbSecret);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        const name = (err as { name?: string }).name;
        if (name === 'ResourceNotFoundException' || name === 'AccessDeniedException') throw err;
        lastError = err;
        await sleep(Math.min(500 * 2 ** i, 5000));
      }
    }
    throw lastError;
  } finally {
    client.destroy();
  }
}
