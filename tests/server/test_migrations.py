"""The Alembic migrations make exactly the tables schema.py describes, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from sync_server.store import migrate
from sync_server.store.db import make_engine
from sync_server.store.schema import metadata

from ..support import database_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_schema_and_go_down_again(backend, tmp_path, pg_databases):
    engine = make_engine(database_url(backend, tmp_path, pg_databases))
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        command.downgrade(migrate.alembic_config(engine), "0001")
        assert "audit" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert {"campaigns", "audit", "imports"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
