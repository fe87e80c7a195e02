"""Database settings from the environment the app tier sets, and connections to MySQL with PyMySQL.

Authentication (DB_AUTH):
- ``iam`` (what the app tier sets when it has a database): a fresh RDS IAM authentication token,
  signed with the instance role by boto3's ``rds.generate_db_auth_token`` for DB_HOST, DB_PORT and
  DB_USER, is the password of every new connection. RDS receives it with ``mysql_clear_password``,
  so IAM needs DB_TLS=required: the token only travels inside a verified TLS connection.
- ``password`` (the default): the credentials of the Secrets Manager secret named by DB_SECRET_ARN
  (an RDS-style JSON secret), or DB_USER and DB_PASSWORD.

TLS (DB_TLS): ``required`` (default with iam) verifies the server certificate against
DB_TLS_CA_FILE, by default the Amazon RDS CA bundle shipped beside this file, and its host name when
DB_HOST is a name; ``preferred`` (default with password) uses TLS when the server offers it, without
verification; ``off`` never uses it.
"""

import ipaddress
import json
import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Mapping, Optional

import pymysql

log = logging.getLogger("notes-api")

RDS_CA_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rds-ca-bundle.pem")
AUTH_MODES = ("password", "iam")
TLS_MODES = ("required", "preferred", "off")


class ConfigError(Exception):
    """A setting the operator must fix: the process stops with this message."""


@dataclass(frozen=True)
class Settings:
    """What the environment says (secrets not read yet)."""

    host: Optional[str]
    port: Optional[int]
    database: Optional[str]
    user: Optional[str]
    password: Optional[str]
    secret_arn: Optional[str]
    auth: str
    tls: str
    ca_file: str
    region: Optional[str]
    connect_timeout: int


def _text(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name, "").strip()
    return value or None


def _port(env: Mapping[str, str]) -> Optional[int]:
    raw = _text(env, "DB_PORT")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"DB_PORT must be an integer between 1 and 65535, got '{raw}'")
    return int(raw)


def settings_from_env(env: Mapping[str, str] = os.environ) -> Settings:
    """Reads and checks the database settings; raises ConfigError naming the variable."""
    auth = _text(env, "DB_AUTH") or "password"
    if auth not in AUTH_MODES:
        raise ConfigError(f"DB_AUTH must be one of {', '.join(AUTH_MODES)}; got '{auth}'")
    tls = _text(env, "DB_TLS") or ("required" if auth == "iam" else "preferred")
    if tls not in TLS_MODES:
        raise ConfigError(f"DB_TLS must be one of {', '.join(TLS_MODES)}; got '{tls}'")
    settings = Settings(
        host=_text(env, "DB_HOST"),
        port=_port(env),
        database=_text(env, "DB_NAME"),
        user=_text(env, "DB_USER"),
        password=env.get("DB_PASSWORD") or None,
        secret_arn=_text(env, "DB_SECRET_ARN"),
        auth=auth,
        tls=tls,
        ca_file=_text(env, "DB_TLS_CA_FILE") or RDS_CA_BUNDLE,
        region=_text(env, "AWS_REGION") or _text(env, "AWS_DEFAULT_REGION"),
        connect_timeout=5,
    )
    if auth == "iam":
        if tls != "required":
            raise ConfigError(f"DB_AUTH=iam sends a token as a clear-text password: DB_TLS must be required, got '{tls}'")
        for name, value in (("DB_USER", settings.user), ("DB_HOST", settings.host), ("AWS_REGION", settings.region)):
            if not value:
                raise ConfigError(f"DB_AUTH=iam needs {name} (tokens are signed for the host, port, user and region)")
        if settings.secret_arn or settings.password:
            raise ConfigError("DB_AUTH=iam takes no DB_SECRET_ARN or DB_PASSWORD (the token is the password)")
    elif not settings.secret_arn and not (settings.user and settings.password is not None):
        raise ConfigError("set DB_SECRET_ARN (a Secrets Manager secret with the credentials), DB_USER and DB_PASSWORD, or DB_AUTH=iam and DB_USER")
    if tls == "required" and not os.path.isfile(settings.ca_file):
        raise ConfigError(f"DB_TLS=required needs a CA file: {settings.ca_file} does not exist (DB_TLS_CA_FILE)")
    return settings


@dataclass(frozen=True)
class Target:
    """Where and as whom to connect, once the secret (if any) has been read."""

    host: str
    port: int
    database: str
    user: str
    password: Optional[str]


def _read_secret(settings: Settings) -> dict:
    import boto3  # only the password-from-secret mode needs it at this point

    client = boto3.client("secretsmanager", region_name=settings.region)
    value = client.get_secret_value(SecretId=settings.secret_arn)
    try:
        secret = json.loads(value["SecretString"])
    except (KeyError, ValueError) as err:
        raise ConfigError(f"secret {settings.secret_arn} has no JSON SecretString") from err
    if not isinstance(secret, dict):
        raise ConfigError(f"secret {settings.secret_arn} is not a JSON object")
    return secret


def resolve_target(settings: Settings) -> Target:
    """Credentials from the secret or the environment; host, port and database from the environment first."""
    secret = _read_secret(settings) if settings.auth == "password" and settings.secret_arn else {}
    user = secret.get("username") if secret else settings.user
    password = None if settings.auth == "iam" else (secret.get("password") if secret else settings.password)
    host = settings.host or secret.get("host")
    if not isinstance(user, str) or not user or (settings.auth == "password" and not isinstance(password, str)):
        raise ConfigError("the database secret must hold string fields username and password")
    if not isinstance(host, str) or not host:
        raise ConfigError("DB_HOST is not set and the secret has no host")
    secret_port = secret.get("port")
    port = settings.port or (int(secret_port) if str(secret_port or "").isdigit() else 3306)
    database = settings.database or secret.get("dbname")
    if not isinstance(database, str) or not database:
        raise ConfigError("DB_NAME is not set and the secret has no dbname")
    return Target(host=host, port=port, database=database, user=user, password=password)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def tls_options(settings: Settings, host: str) -> dict:
    """PyMySQL's TLS arguments for the mode (its default without ssl arguments is 'preferred')."""
    if settings.tls == "off":
        return {"ssl_disabled": True}
    if settings.tls == "preferred":
        return {}
    context = ssl.create_default_context(cafile=settings.ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # A certificate names a host, not an address: for an IP address only the chain is verified.
    context.check_hostname = not _is_ip(host)
    return {"ssl": context}


class Database:
    """One connection per worker thread, opened on first use and replaced when it stops answering."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._target: Optional[Target] = None
        self._signer = None
        self._local = threading.local()
        self._lock = threading.RLock()
        self._schema_ready = False

    def _password(self, target: Target) -> Optional[str]:
        if self.settings.auth != "iam":
            return target.password
        if self._signer is None:
            import boto3

            self._signer = boto3.client("rds", region_name=self.settings.region)
        # Valid 15 minutes; signed anew for every connection (an open connection stays open after that).
        return self._signer.generate_db_auth_token(
            DBHostname=target.host, Port=target.port, DBUsername=target.user, Region=self.settings.region)

    def _open(self) -> pymysql.connections.Connection:
        if self._target is None:
            with self._lock:
                self._target = self._target or resolve_target(self.settings)
        target = self._target
        return pymysql.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=self._password(target),
            database=target.database,
            connect_timeout=self.settings.connect_timeout,
            read_timeout=10,
            write_timeout=10,
            charset="utf8mb4",
            autocommit=True,
            init_command="SET time_zone = '+00:00'",
            cursorclass=pymysql.cursors.DictCursor,
            **tls_options(self.settings, target.host),
        )

    def connection(self) -> pymysql.connections.Connection:
        """This thread's connection, checked with a ping and reopened (with a new token) if it is gone."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                conn.ping(reconnect=False)
                return conn
            except pymysql.MySQLError:
                self._close_local()
        conn = self._open()
        self._local.conn = conn
        return conn

    def _close_local(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except pymysql.MySQLError:
                pass

    def ensure_schema(self, statements: list) -> None:
        """Creates what is missing, once per process (every statement must be idempotent)."""
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            with self.connection().cursor() as cur:
                for statement in statements:
                    cur.execute(statement)
            self._schema_ready = True
            log.info("schema ready in database %s", self._target.database if self._target else "?")

    def ping(self) -> bool:
        started = time.monotonic()
        with self.connection().cursor() as cur:
            cur.execute("SELECT 1 AS ok")
            ok = cur.fetchone() == {"ok": 1}
        log.debug("database ping in %.1f ms", (time.monotonic() - started) * 1000)
        return ok
