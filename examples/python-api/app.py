"""A small notes REST API on Flask, for the cdk-three-tier app tier's Python runtime.

Routes (NGINX on the web tier proxies /api/ and the health check path to it):
- GET  /healthz          200 when the database answers, else 503
- GET  /api/notes        the newest notes (?limit=1..100, default 20)
- GET  /api/notes/<id>   one note, or 404
- POST /api/notes        {"title": "...", "body": "..."}: 201 with the note, 400 on bad input

gunicorn imports `app:app`. The settings come from the environment (see db.py); a wrong setting
stops gunicorn at start with a message naming the variable. The table is created on the first
connection if it is missing; until the database answers, the API answers 503.
"""

import logging
import os
import sys

import pymysql
from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from db import ConfigError, Database, settings_from_env

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
    format="%(asctime)s %(levelname)s %(name)s pid=%(process)d %(message)s",
    stream=sys.stderr,
)
log = logging.getLogger("notes-api")

TITLE_MAX = 200
BODY_MAX = 10_000
SCHEMA = [
    """CREATE TABLE IF NOT EXISTS notes (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        title VARCHAR(200) NOT NULL,
        body TEXT NOT NULL,
        created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4""",
]


class BadRequest(Exception):
    """Input the client must fix: answered with 400 and the message."""


def validate_note(payload) -> dict:
    """The note to write, from a parsed JSON body; raises BadRequest naming the field."""
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object with title and body")
    unknown = sorted(set(payload) - {"title", "body"})
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
    title = payload.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("title must be a non-empty string")
    title = title.strip()
    if len(title) > TITLE_MAX:
        raise BadRequest(f"title must be at most {TITLE_MAX} characters, got {len(title)}")
    body = payload.get("body", "")
    if not isinstance(body, str):
        raise BadRequest("body must be a string")
    if len(body) > BODY_MAX:
        raise BadRequest(f"body must be at most {BODY_MAX} characters, got {len(body)}")
    return {"title": title, "body": body}


def note_json(row: dict) -> dict:
    return {"id": int(row["id"]), "title": row["title"], "body": row["body"], "createdAt": row["created_at"].isoformat(timespec="milliseconds") + "Z"}


def create_app(db: Database) -> Flask:
    app = Flask("notes-api")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False

    def conn():
        db.ensure_schema(SCHEMA)
        return db.connection()

    @app.get("/healthz")
    def healthz():
        try:
            conn()
            ok = db.ping()
        except Exception as err:  # pylint: disable=broad-except  (any failure means: not healthy)
            log.warning("health check: database unavailable: %s", err)
            ok = False
        return (jsonify(status="ok"), 200) if ok else (jsonify(status="unavailable", error="database unavailable"), 503)

    @app.get("/api/notes")
    def list_notes():
        raw = request.args.get("limit", "20")
        if not raw.isdigit() or not 1 <= int(raw) <= 100:
            raise BadRequest("limit must be an integer between 1 and 100")
        with conn().cursor() as cur:
            cur.execute("SELECT id, title, body, created_at FROM notes ORDER BY id DESC LIMIT %s", (int(raw),))
            rows = cur.fetchall()
        return jsonify(notes=[note_json(r) for r in rows])

    @app.get("/api/notes/<int:note_id>")
    def get_note(note_id: int):
        with conn().cursor() as cur:
            cur.execute("SELECT id, title, body, created_at FROM notes WHERE id = %s", (note_id,))
            row = cur.fetchone()
        if row is None:
            return jsonify(error=f"note {note_id} not found"), 404
        return jsonify(note=note_json(row))

    @app.post("/api/notes")
    def create_note():
        if not request.is_json:
            raise BadRequest("send the note as JSON (Content-Type: application/json)")
        payload = request.get_json(silent=True)
        if payload is None:
            raise BadRequest("the body is not valid JSON")
        note = validate_note(payload)
        with conn().cursor() as cur:
            cur.execute("INSERT INTO notes (title, body) VALUES (%s, %s)", (note["title"], note["body"]))
            cur.execute("SELECT id, title, body, created_at FROM notes WHERE id = %s", (cur.lastrowid,))
            row = cur.fetchone()
        response = jsonify(note=note_json(row))
        response.status_code = 201
        response.headers["Location"] = f"/api/notes/{row['id']}"
        return response

    @app.errorhandler(BadRequest)
    def bad_request(err: BadRequest):
        return jsonify(error=str(err)), 400

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        return jsonify(error=err.description or err.name), err.code

    @app.errorhandler(pymysql.MySQLError)
    def database_error(err: pymysql.MySQLError):
        log.error("database error: %s", err)
        return jsonify(error="database unavailable, try again shortly"), 503

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unhandled error")
        return jsonify(error="internal error"), 500

    return app


try:
    database = Database(settings_from_env())
except ConfigError as config_error:
    log.critical("configuration error: %s", config_error)
    # An exception (not SystemExit): gunicorn then stops with "Worker failed to boot" instead of
    # starting new workers forever, and systemd restarts the service (Restart=on-failure).
    raise

app = create_app(database)
try:
    database.ensure_schema(SCHEMA)
except Exception as startup_error:  # pylint: disable=broad-except
    # Not fatal: the first request tries again, and /healthz answers 503 until the database answers.
    log.warning("database not ready at start: %s", startup_error)
