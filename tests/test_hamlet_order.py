"""The device lists hamlets in the order the server's totals list them: campaign's natural order
("Tổ dân phố 2" before "Tổ dân phố 10"), whatever the marks, the case or the digits.

The server is the real application on a SQLite file, in process (as tests/test_store_moves.py)."""
from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from field_app.net.sync import SyncClient
from sync_server.app import create_app
from sync_server.config import Settings
from sync_server.store import migrate
from sync_server.store.db import make_engine

from .store_support import add_hamlet
from .support import enrolled_store, issue_code

COMMUNE = "10525"
# No two with the same natural key: a tie is ordered by each side as it likes (campaign/order.py).
NAMES = ["Tổ dân phố 10", "Tổ dân phố 2", "Tổ dân phố 1", "Tổ dân phố 1A", "thôn Đông", "Thôn Bắc 3",
         "Ấp 11", "ấp 2", "Khu phố 10B", "Khu phố 9", "Đội 3", "Dội 12"]


def test_the_device_and_the_server_list_hamlets_in_one_order(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    migrate.upgrade(engine)
    http = TestClient(create_app(Settings(database_url="unused", public_url="http://testserver"), engine))
    store = enrolled_store(tmp_path / "admin", "http://testserver", issue_code(engine, "admin"), http=http)
    for name in NAMES:
        add_hamlet(store, COMMUNE, name, "to_dan_pho", "2025-07-01")
    SyncClient(store, client=http).sync_once()

    totals = http.get("/api/v1/totals", params={"commune": COMMUNE, "by": "hamlet"},
                      headers={"Authorization": f"Bearer {store.token}"})
    assert totals.status_code == 200, totals.text
    server_order = [row["name"] for row in totals.json()["rows"]]
    device_order = [h.name for h in store.hamlets()]
    assert sorted(server_order) == sorted(device_order) == sorted(NAMES)
    assert device_order == server_order
    assert device_order.index("Tổ dân phố 2") < device_order.index("Tổ dân phố 10")  # not "1, 10, 2"
    store.close()
    engine.dispose()
