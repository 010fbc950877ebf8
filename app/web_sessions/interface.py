"""`flask.session` backed by a `web_session` row; the cookie holds only a random id.

Code (ours, authlib's, Flask-WTF's) keeps using `flask.session` as a dict. Four
keys are kept in columns rather than in the row's JSON `data`, so that sessions can
be found by person and timed out in SQL: PERSON_KEY (user_id), SIGNED_IN_AT_KEY
(created_at: read when the row is made, fixed after), SECOND_FACTOR_AT_KEY and
AUTH_TIME_KEY (epoch seconds in the dict).

Per request with a cookie: one SELECT by primary key. A write only when the session
changed, or to move `last_seen_at` on once it is a minute old. Writes go through
their own connection and transaction, so they never commit a view's unfinished work.
"""

import hashlib
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID

from flask import Flask, Request, Response, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import NullSession, SecureCookieSession, SessionInterface
from sqlalchemy import delete, insert, or_, select, update

from app.database import utc_now
from app.extensions import db
from app.web_sessions.models import WebSession

PERSON_KEY = "person_id"
SIGNED_IN_AT_KEY = "signed_in_at"
SECOND_FACTOR_AT_KEY = "second_factor_at"
AUTH_TIME_KEY = "auth_time"
COLUMN_KEYS = (PERSON_KEY, SIGNED_IN_AT_KEY, SECOND_FACTOR_AT_KEY, AUTH_TIME_KEY)

#: `last_seen_at` is moved on at most this often (the idle timeout is that coarse).
LAST_SEEN_STEP = timedelta(seconds=60)
# secrets.token_urlsafe(32): 43 characters of base64url.
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")
_TABLE = WebSession.__table__
_serializer = TaggedJSONSerializer()


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(SecureCookieSession):
    """The session dict, with the id it is stored under and what saving it must delete."""

    def __init__(self, initial=None, *, session_id: str | None = None, last_seen_at=None):
        super().__init__(initial)
        self.session_id = session_id or new_session_id()
        #: Whether a row is stored under `session_id` (else saving inserts one).
        self.stored = session_id is not None
        self.last_seen_at: datetime | None = last_seen_at
        #: Hashed ids whose rows go when the session is saved (rotated away, timed out).
        self.ended: list[str] = []

    @property
    def id_hash(self) -> str:
        return hash_session_id(self.session_id)

    def rotate(self) -> None:
        """Keep the data under a new id; the old id's row is deleted when this is saved.

        A cookie copied before (sign-in, second factor, sign-out) then opens nothing.
        """
        if self.stored:
            self.ended.append(self.id_hash)
        self.session_id = new_session_id()
        self.stored = False
        self.modified = True


def rotate_session() -> None:
    """A new session id for this browser, same data (see `ServerSession.rotate`)."""
    session.rotate()


def current_session_hash() -> str | None:
    """The hashed id of this request's stored session, or None."""
    return session.id_hash if isinstance(session, ServerSession) and session.stored else None


def expired_rows(now: datetime, settings):
    """Rows past the idle or the absolute timeout (both columns are indexed)."""
    return or_(
        WebSession.last_seen_at < now - timedelta(seconds=settings.session_idle_timeout),
        WebSession.created_at < now - timedelta(seconds=settings.session_max_age),
    )


class ServerSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ServerSession | NullSession:
        if app.static_url_path and request.path.startswith(app.static_url_path + "/"):
            return self.null_session_class()  # stylesheets and scripts: no SELECT, no write
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie or not SESSION_ID.fullmatch(cookie):
            return ServerSession()
        id_hash = hash_session_id(cookie)
        row = db.session.execute(select(_TABLE).where(_TABLE.c.id_hash == id_hash)).first()
        if row is None:
            return ServerSession()
        if _timed_out(row, app.extensions["settings"], utc_now()):
            fresh = ServerSession()
            fresh.ended.append(id_hash)
            return fresh
        return ServerSession(_as_dict(row), session_id=cookie, last_seen_at=row.last_seen_at)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session is None:  # opening it failed (database down): nothing to save
            return
        if session.accessed:
            response.vary.add("Cookie")
        now = utc_now()
        had_cookie = self.get_cookie_name(app) in request.cookies
        writes = _writes(session, now, app.extensions["settings"])
        if writes:
            with db.engine.begin() as connection:
                for statement in writes:
                    connection.execute(statement)
        if session and not session.stored and session.modified:
            session.stored = True
            self._set_cookie(app, session, response)
        elif not session and (had_cookie or session.ended):
            response.delete_cookie(
                self.get_cookie_name(app),
                domain=self.get_cookie_domain(app),
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=self.get_cookie_httponly(app),
                samesite=self.get_cookie_samesite(app),
            )

    def _set_cookie(self, app: Flask, session: ServerSession, response: Response) -> None:
        # No Expires: the cookie ends with the browser; the server's timeouts end it sooner.
        response.set_cookie(
            self.get_cookie_name(app),
            session.session_id,
            domain=self.get_cookie_domain(app),
            path=self.get_cookie_path(app),
            secure=self.get_cookie_secure(app),
            httponly=self.get_cookie_httponly(app),
            samesite=self.get_cookie_samesite(app),
        )


def _writes(session: ServerSession, now: datetime, settings) -> list:
    """The statements that make the stored rows match the session (none: nothing to do)."""
    writes = [delete(_TABLE).where(_TABLE.c.id_hash.in_(session.ended))] if session.ended else []
    if not session:
        if session.stored:  # emptied (e.g. an account that no longer exists)
            writes.append(delete(_TABLE).where(_TABLE.c.id_hash == session.id_hash))
        return writes
    if not session.stored:
        if session.modified:
            writes.append(insert(_TABLE).values(_new_row(session, now)))
            if session.get(PERSON_KEY):
                # A sign-in is rare enough to pay for the sweep, even without beat.
                writes.append(delete(_TABLE).where(expired_rows(now, settings)))
        return writes
    if session.modified:
        # An UPDATE, never an insert: a row ended meanwhile (sign out everywhere) stays gone.
        values = _row_values(session) | {"last_seen_at": now}
        writes.append(update(_TABLE).where(_TABLE.c.id_hash == session.id_hash).values(values))
    elif session.last_seen_at is None or now - session.last_seen_at >= LAST_SEEN_STEP:
        touch = {"last_seen_at": now}
        writes.append(update(_TABLE).where(_TABLE.c.id_hash == session.id_hash).values(touch))
    return writes


def _new_row(session: ServerSession, now: datetime) -> dict:
    signed_in_at = _moment(session.get(SIGNED_IN_AT_KEY))
    return _row_values(session) | {
        "id_hash": session.id_hash,
        "created_at": signed_in_at or now,
        "last_seen_at": now,
    }


def _row_values(session: ServerSession) -> dict:
    data = {key: value for key, value in session.items() if key not in COLUMN_KEYS}
    return {
        "user_id": _person_id(session.get(PERSON_KEY)),
        "second_factor_at": _moment(session.get(SECOND_FACTOR_AT_KEY)),
        "auth_time": _moment(session.get(AUTH_TIME_KEY)),
        "data": json.loads(_serializer.dumps(data)),
    }


def _as_dict(row) -> dict:
    values = _serializer.loads(json.dumps(row.data or {}))
    if row.user_id is not None:
        values[PERSON_KEY] = str(row.user_id)
        values[SIGNED_IN_AT_KEY] = row.created_at.timestamp()
    for key, moment in (
        (SECOND_FACTOR_AT_KEY, row.second_factor_at),
        (AUTH_TIME_KEY, row.auth_time),
    ):
        if moment is not None:
            values[key] = moment.timestamp()
    return values


def _timed_out(row, settings, now: datetime) -> bool:
    idle = now - row.last_seen_at > timedelta(seconds=settings.session_idle_timeout)
    too_old = now - row.created_at > timedelta(seconds=settings.session_max_age)
    return idle or too_old


def _person_id(value) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _moment(value) -> datetime | None:
    """Epoch seconds or an aware datetime as a UTC datetime; anything else as None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None
