"""Home figures (issue #11, item 7): "của tôi" (this phone's visits today) and "cả tổ" (the
team's) apart on the home screen; a volunteer who did nothing sees 0 for theirs."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from field_app.crypto import Cipher
from field_app.store import Store

from ..test_home_counts import Server
from .volunteer import device_store, enrolled_dir, open_app


def test_the_home_screen_says_whose(make_harness: Any, tmp_path: Path) -> None:
    data = enrolled_dir(tmp_path)
    mate = Store(tmp_path / "mate", key=Cipher.new_key())  # the real clock, as the app's: visits today
    mate.enrol("http://127.0.0.1:1", "dev-mate", "token-mate", "volunteer", {"hamlets": []})
    with device_store(data) as me:
        hamlet = me.hamlets()[0].id
        homes = [me.add_household(hamlet, f"Số {n}, phố Lê Lợi") for n in (1, 2, 3)]
        server = Server()
        server.sync(me, mate)
        for home in homes[:2]:
            mate.record_visit(home, "met")
        server.sync(mate, me)
    mate.close()
    h = open_app(make_harness, data, width=360, height=640)
    assert h.get(key="home.today")["value"] == "0"
    assert h.get(key="home.today_label")["value"] == "Hôm nay của tôi"
    assert h.get(key="home.today_team")["value"] == "cả tổ: 2"
    h = open_app(make_harness, data, language="en")
    assert h.get(key="home.today_label")["value"] == "Mine today"
    assert h.get(key="home.today_team")["value"] == "team: 2"
