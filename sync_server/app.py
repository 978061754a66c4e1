"""The FastAPI application: an API only (people use the field app, in web mode)."""
from __future__ import annotations

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
from .store.db import make_engine


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(title="Gõ Cửa sync server", version="1.0",
                  description="Enrolment, exactly-once event sync, and totals for Gõ Cửa field devices.")
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
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
