"""Home figures (issue #11, item 7): today's visits of this phone ("của tôi") and of the whole
team ("cả tổ") apart; a volunteer who did nothing sees 0 for theirs."""
from __future__ import annotations

from pathlib import Path

from field_app.store import Store

from .test_store import open_store, seed


class Server:
    """Just enough of a server: it keeps what phones send, in order, and every phone pulls it all."""

    def __init__(self) -> None:
        self.log: list[dict[str, object]] = []

    def sync(self, *phones: Store) -> None:
        for phone in phones:
            sent = phone.pending(limit=10_000)
            self.log += sent
            if sent:
                phone.acknowledge(sent[-1]["seq"])
        for phone in phones:
            page = [{**event, "cursor": n} for n, event in enumerate(self.log, start=1)]
            phone.apply_pulled(page, len(page))


def teammates(tmp_path: Path) -> tuple[Store, Store, list[str]]:
    """Two phones of one team: `me` made the hamlet and households, `mate` visited three today."""
    me, mate = open_store(tmp_path / "me", "dev-me"), open_store(tmp_path / "mate", "dev-mate")
    hamlet, first = seed(me)
    homes = [first] + [me.add_household(hamlet, f"Số {n}") for n in (5, 6, 7)]
    server = Server()
    server.sync(me, mate)
    for home in homes[:3]:
        mate.record_visit(home, "met", ["explained"])
    server.sync(mate, me)
    return me, mate, homes


def test_today_mine_and_the_teams_apart(tmp_path: Path) -> None:
    me, mate, homes = teammates(tmp_path)
    counts = me.counts()
    assert (counts.today, counts.today_mine) == (3, 0), "nothing done here: 0 for mine"
    me.record_visit(homes[3], "not_home")
    counts = me.counts()
    assert (counts.today, counts.today_mine) == (4, 1)
    assert (mate.counts().today, mate.counts().today_mine) == (3, 3)  # it has not pulled mine yet
    me.close()
    mate.close()
