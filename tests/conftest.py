from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine

from campaign.ids import uuid7
from sync_server.store import migrate
from sync_server.store.db import make_engine

from .support import PostgresDatabases, Server, database_url, hamlet_data, migrated_sqlite

# No property test fails for being slow: hypothesis's default 200 ms deadline per example is a
# wall-clock assertion, and on a loaded machine it failed a correct test. Speed is the bench's.
settings.register_profile("gocua", deadline=None)
settings.load_profile("gocua")

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    pg = PostgresDatabases()
    yield pg
    pg.drop_all()


@pytest.fixture(params=BACKENDS)
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path, pg_databases: PostgresDatabases) -> Iterator[Engine]:
    """An engine on a fresh migrated database of each backend, no server: for the store's tests."""
    if request.param == "sqlite":
        engine = make_engine(migrated_sqlite(tmp_path / "server.db"))
    else:
        engine = make_engine(pg_databases.create())
        migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           pg_databases: PostgresDatabases) -> Iterator[Server]:
    """One real server per test module and backend; tests make their own devices and hamlets."""
    tmp = tmp_path_factory.mktemp(f"server-{request.param}")
    url = database_url(request.param, tmp, pg_databases)
    from sync_server.store import migrate
    srv = Server(url)
    migrate.upgrade(srv.engine)  # what `gocua-server init` does, without a process start
    srv.start()
    srv.backend = request.param  # type: ignore[attr-defined]
    yield srv
    srv.close()


@pytest.fixture()
def admin(server: Server):  # type: ignore[no-untyped-def]
    return server.enroll("admin")


@pytest.fixture()
def hamlet(admin) -> str:  # type: ignore[no-untyped-def]
    """A fresh hamlet of Phường Hải Dương, created by the admin through push."""
    hamlet_id = uuid7()
    answer = admin.push([admin.event("hamlet.created", hamlet_id, hamlet_data(f"Tổ {hamlet_id[-6:]}"))])
    assert answer.status_code == 200 and answer.json()["quarantined"] == [], answer.text
    return hamlet_id


@pytest.fixture()
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Two workers (`-n 2 --dist loadgroup`, pyproject), each test module whole on one of them: a
    module's tests share module-scoped servers and worlds, and some read what an earlier one left.
    The end-to-end tests all go to one worker, one after another: they share one Chromium, and two
    of them at once on two cores would each be starved."""
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        group = "e2e" if module.startswith("tests/e2e/") else module
        item.add_marker(pytest.mark.xdist_group(group))
