/*
 * Grammars and quoting for the SQL the data tier renders (see src/data/app-user-sql.ts).
 */

/** User name grammar: MySQL 8 allows 32 characters; a strict subset that never needs escaping. */
const USERNAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** Database name grammar (the data tier's `databaseName`). */
const DATABASE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Schemas of the server itself. */
const SYSTEM_SCHEMAS = ['mysql', 'sys', 'information_schema', 'performance_schema'];
/** Accounts MySQL and RDS create or reserve for themselves. */
const RESERVED_USERS = ['root', 'rdsadmin', 'rdsrepladmin', 'rdsproxyadmin', 'rds_superuser_role', 'mysql', 'public'];

/**
 * Checks a database user name for the API: the grammar of `AppUserSqlOptions.username` and no name
 * MySQL or RDS reserves. Returns what is allowed when the name is not, else undefined.
 */
export function appUsernameProblem(username: unknown): string | undefined {
  if (typeof username !== 'string' || !USERNAME.test(username)) {
    return 'must start with a letter and hold 1 to 32 letters, digits or underscores';
  }
  const lower = username.toLowerCase();
  if (RESERVED_USERS.includes(lower) || lower.startsWith('rds') || lower.startsWith('mysql')) {
    return `must not be a name MySQL or RDS reserves (${RESERVED_USERS.join(', ')}, or starting with 'rds' or 'mysql')`;
  }
  return undefined;
}

/**
 * Checks the database the API's user gets: the grammar of `AppUserSqlOptions.databaseName` and not a
 * system schema (a grant there would reach `mysql.user`). Returns what is allowed when the name is
 * not, else undefined.
 */
export function databaseNameProblem(databaseName: unknown): string | undefined {
  if (typeof databaseName !== 'string' || !DATABASE_NAME.test(databaseName)) {
    return 'must start with a letter and hold 1 to 64 letters, digits or underscores';
  }
  if (SYSTEM_SCHEMAS.includes(databaseName.toLowerCase())) {
    return `must not be a system schema (${SYSTEM_SCHEMAS.join(', ')})`;
  }
  return undefined;
}

/**
 * Quotes an identifier (database, table) with backticks, doubling any backtick inside. Names are
 * checked by their grammar before they get here; the quoting is the second line of defence.
 */
export function quoteSqlIdentifier(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || name.includes('\0')) {
    fail('identifier', name, 'must be 1 to 64 characters without NUL');
  }
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * Quotes a string literal (user name, host, password) with single quotes, doubling quotes and
 * escaping backslashes (MySQL's default `sql_mode` treats the backslash as an escape character).
 */
export function quoteSqlString(value: string): string {
  if (typeof value !== 'string' || value.includes('\0')) {
    fail('string', value, 'must be a string without NUL');
  }
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Throws an error naming the option, its value and what is allowed. */
export function fail(prop: string, value: unknown, allowed: string): never {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  throw new Error(`${prop} (${shown}) ${allowed}`);
}
