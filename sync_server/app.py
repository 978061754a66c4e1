"""The FastAPI application: an API only (people use the field app, in web mode)."""
from __future__ import annotations

import gc

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import Engine

from . import errors
from .api import (
    audit,
    campaigns,
    enroll,
    exports,
    followup,
    imports,
    relay,
    reports,
    security,
    sessions,
    sync,
    team,
    team_settings,
    timing,
    tokens,
)
from .config import Settings
from .store import lock_times
from .store.db import make_engine

# The garbage collector's young generation is collected after this many new containers instead
# of CPython's 700. A push makes tens of thousands of short-lived dicts, lists and rows (its
# events, entities and counters), and at 700 the collector ran every few events. Measured
# (BENCHMARKS.md, the change log): 13 % less CPU an event in-process (profile.py, whose own
# held input the full collections walked too), and within the noise through HTTP in the full
# bench (-3 to +4 % events per server CPU-second). Kept because it costs nothing: the same
# collector run about 14 times less often, a young generation's garbage at most a few MB, RSS
# unchanged (119-126 MB a worker).
GC_YOUNG_THRESHOLD = 10_000


def tune_gc() -> None:
    """The collector as a server process runs it (GC_YOUNG_THRESHOLD); the older generations keep
    CPython's thresholds."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def served_app() -> FastAPI:
    """The app as `gocua-server serve` runs it in each worker process: the collector tuned, then
    create_app() with the settings of the environment."""
    tune_gc()
    return create_app()


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="Gõ Cửa sync server", version="1.0",
                  description="Enrolment, exactly-once event sync, and totals for Gõ Cửa field devices.")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    if settings.lock_times:  # the bench: how long each write held the server-wide lock
        lock_times.record_to(app.state.engine, settings.lock_times)
    app.state.totals_answers = reports.answers()  # GET /totals' kept answers (api/reports.py)
    errors.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.include_router(enroll.router)
    app.include_router(sync.router)
    app.include_router(relay.router)
    app.include_router(reports.router)
    app.include_router(team.router)
    app.include_router(team_settings.router)
    app.include_router(campaigns.router)
    app.include_router(followup.router)
    app.include_router(exports.router)
    app.include_router(sessions.router)
    app.include_router(imports.router)
    app.include_router(audit.router)
    app.include_router(tokens.router)

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    security.install(app)  # headers, CORS, body and rate limits, log redaction: after every route
    if settings.request_times:  # outermost: the server's own time for each request (the bench)
        app.add_middleware(timing.RequestTimes, path=settings.request_times)
    return app
