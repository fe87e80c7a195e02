import { appUsernameProblem, databaseNameProblem, fail, quoteSqlIdentifier, quoteSqlString } from '../private/sql';

/**
 * Options for rendering the SQL that creates the API's database user.
 */
export interface AppUserSqlOptions {
  /**
   * Name of the database user (a letter, then up to 31 letters, digits or underscores; not a name
   * reserved by MySQL or RDS such as `root`, `rdsadmin` or `mysql.sys`).
   */
  readonly username: string;

  /**
   * The database (schema) the user may use; it gets no privilege anywhere else. A letter, then up to
   * 63 letters, digits or underscores.
   */
  readonly databaseName: string;

  /**
   * A password instead of IAM database authentication. Only for test servers without the RDS
   * authentication plugin (MariaDB, MySQL on a workstation): the grants are the same. 8 to 128
   * letters, digits or `_ . ~ -`.
   *
   * @default - IAM database authentication (`IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'`)
   */
  readonly password?: string;
}

/** See `AppUserSql.PRIVILEGES`. */
const PRIVILEGES: readonly string[] = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE',
  'CREATE', 'ALTER', 'INDEX', 'REFERENCES',
  'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'CREATE VIEW', 'SHOW VIEW',
];

/** Password grammar for test servers: nothing that needs escaping in a SQL string literal. */
const PASSWORD = /^[A-Za-z0-9_.~-]{8,128}$/;

/**
 * Renders the SQL statements that create the API's database user on RDS for MySQL 8.0 or 8.4, run
 * by the master user. Safe to run again (on every deployment that changes them): the user is created
 * if missing, its identification is reset (so a user created by hand with a password converges to
 * IAM authentication), and the grants are added.
 *
 * Every name is checked by a strict grammar and then quoted, so nothing a caller passes can end a
 * string or identifier.
 */
export function renderAppUserSql(options: AppUserSqlOptions): string[] {
  return AppUserSql.render(options);
}

/**
 * The SQL that creates the API's database user (see `renderAppUserSql`).
 */
export class AppUserSql {
  /**
   * The privileges of the API's user on its database, and nothing else: enough for the schema
   * migrations an application runs at start (tables, indexes, foreign keys, views) and for its
   * queries. No `DROP` (on a schema it includes `DROP DATABASE`), no `GRANT OPTION`, no global
   * privilege.
   */
  public static readonly PRIVILEGES: string[] = [...PRIVILEGES];

  /**
   * Renders the statements (see `renderAppUserSql`).
   */
  public static render(options: AppUserSqlOptions): string[] {
    const problem = appUsernameProblem(options.username);
    if (problem) fail('username', options.username, problem);
    const database = options.databaseName;
    const databaseProblem = databaseNameProblem(database);
    if (databaseProblem) fail('databaseName', database, databaseProblem);
    if (options.password !== undefined && (typeof options.password !== 'string' || !PASSWORD.test(options.password))) {
      // The value is a secret: never echo it.
      throw new Error('password must hold 8 to 128 letters, digits or _ . ~ -');
    }
    const account = `${quoteSqlString(options.username)}@${quoteSqlString('%')}`;
    const identification = options.password === undefined
      ? `IDENTIFIED WITH AWSAuthenticationPlugin AS ${quoteSqlString('RDS')}`
      : `IDENTIFIED BY ${quoteSqlString(options.password)}`;
    return [
      `CREATE USER IF NOT EXISTS ${account} ${identification} REQUIRE SSL`,
      `ALTER USER ${account} ${identification} REQUIRE SSL`,
      `GRANT ${PRIVILEGES.join(', ')} ON ${quoteSqlIdentifier(database)}.* TO ${account}`,
    ];
  }

  private constructor() {}
}
