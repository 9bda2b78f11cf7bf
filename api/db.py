"""Engine and request-scoped sessions: one unit of work per request or task.

Repositories and services never commit; the edge (a request, a task, a CLI
command) owns the transaction through :func:`unit_of_work` or the teardown.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; callers answer 503 with Retry-After."""


# SQLSTATEs of a server that is going away or not there yet: connection exceptions (08…),
# admin/crash shutdown and "cannot connect now" (57P01-57P03), too many connections (53300).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, sa_exc.OperationalError):
        return False
    # libpq failures (no server on the socket or port, connection lost) carry no SQLSTATE;
    # the server's own refusals carry one of the codes above.
    code = getattr(exc.orig, "pgcode", None)
    return code is None or code.startswith(_UNAVAILABLE_SQLSTATES) or any(
        s in str(exc) for s in ("could not connect", "server closed the connection",
                                "Connection refused", "terminating connection",
                                "the database system is"))


def make_engine(url: str, **kwargs) -> Engine:
    # values_plus_batch: executemany UPDATEs go in pages, not one round trip per row.
    options = dict(pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800,
                   executemany_mode="values_plus_batch",
                   connect_args={"connect_timeout": 5, "application_name": "ioc-api"})
    options.update(kwargs)
    return create_engine(url, **options)


_REQUEST_KEY = "ioc.db_session"
_READ_KEY = "ioc.db_read_session"


class Database:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.Session: sessionmaker[Session] | None = None
        self.read_engine: Engine | None = None
        self.ReadSession: sessionmaker[Session] | None = None

    def init_app(self, app: Flask, url: str, read_url: str | None = None) -> None:
        self.engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = self.ReadSession = None
        if read_url:
            self.read_engine = make_engine(read_url, connect_args={
                "connect_timeout": 5, "application_name": "ioc-api-read",
                "options": "-c default_transaction_read_only=on"})
            self.ReadSession = sessionmaker(self.read_engine, expire_on_commit=False)
        app.extensions["db"] = self
        app.teardown_request(self._close_request_session)
        app.teardown_appcontext(self._close_session)

    @property
    def read_session(self) -> Session:
        """A read-only session on the replica (``DATABASE_READ_URL``) for the IOC's pulls
        and KPIs, which may lag the primary by the replica's delay; the primary's session
        when no replica is configured. Never write through it."""
        if self.ReadSession is None or not has_request_context():
            return self.session
        session = request.environ.get(_READ_KEY)
        if session is None:
            session = request.environ[_READ_KEY] = self.ReadSession()
        return session

    @property
    def session(self) -> Session:
        """The session of the current request, or of the app context outside requests
        (created on first use). Per request, not per app context: an app context can
        outlive a request (and does in tests), and a failed request's changes must go."""
        if has_request_context():
            session = request.environ.get(_REQUEST_KEY)
            if session is None:
                session = request.environ[_REQUEST_KEY] = self.Session()
            return session
        if "db_session" not in g:
            g.db_session = self.Session()
        return g.db_session

    @staticmethod
    def _end(session: Session | None, exc: BaseException | None) -> None:
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()

    def _close_request_session(self, exc: BaseException | None) -> None:
        self._end(request.environ.pop(_REQUEST_KEY, None), exc)
        self._end(request.environ.pop(_READ_KEY, None), exc)

    def _close_session(self, exc: BaseException | None) -> None:
        self._end(g.pop("db_session", None), exc)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A fresh session committed on success, rolled back on error."""
        session = self.Session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


db = Database()


def session() -> Session:
    return current_app.extensions["db"].session
