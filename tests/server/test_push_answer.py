"""The push answer is written once (api/sync.py, answer_text), byte for byte as FastAPI wrote
the PushAnswer model the route returned before (issue #16): the same keys in the same order,
the same spelling of every text, for any result."""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi.routing import APIRoute, serialize_response
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.team_settings import TeamSettings
from sync_server.api import sync
from sync_server.services.ingest import PushResult, Refusal

ROUTE = next(r for r in sync.router.routes if isinstance(r, APIRoute) and r.path == "/api/v1/sync/push")


def as_fastapi_wrote_it(result: PushResult, caught_up: int | None, team: TeamSettings | None) -> bytes:
    """The route's former answer: a PushAnswer, through the route's response field (dump_json)."""
    model = sync.PushAnswer(acked_seq=result.acked_seq,
                            quarantined=[sync.Quarantined(seq=q.seq, reason=q.reason) for q in result.quarantined],
                            cursors=result.cursors, caught_up=caught_up,
                            team_settings=None if team is None else sync.TeamSettingsCarried(
                                sample_every=team.sample_every, lapse_days=team.lapse_days))
    written: Any = asyncio.run(serialize_response(field=ROUTE.response_field, response_content=model, dump_json=True))
    return bytes(written)


big = st.integers(min_value=0, max_value=2**63 - 1)
reasons = st.text(st.characters(codec="utf-8"), max_size=20) | st.sampled_from(
    ["bad_type: data must be an object", 'bad_code: kind must be one of a, b; got "x\\y"', "\x00\x1f\x7f\u2028 Tổ"])


@settings(max_examples=300, deadline=None)
@given(big, st.lists(st.builds(Refusal, big, reasons), max_size=4), st.lists(st.tuples(big, big), max_size=4),
       st.none() | big, st.none() | st.builds(TeamSettings, big, big))
def test_the_answer_is_written_as_fastapi_wrote_it(acked: int, quarantined: list[Refusal],
                                                    cursors: list[tuple[int, int]], caught_up: int | None,
                                                    team: TeamSettings | None) -> None:
    result = PushResult(acked_seq=acked, quarantined=quarantined, cursors=cursors)
    assert sync.answer_text(result, caught_up, team).encode() == as_fastapi_wrote_it(result, caught_up, team)
