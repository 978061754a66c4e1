"""POST /api/v1/token/rotate: a new token for the calling device; the old one dies at once."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from ..auth import Caller, caller
from ..errors import ApiError, responses
from ..store import devices
from ..store.db import write_transaction

router = APIRouter()


class TokenAnswer(BaseModel):
    token: str


@router.post("/api/v1/token/rotate", response_model=TokenAnswer, responses=responses(401, 403, 410, 429))
def rotate(request: Request, who: Caller = Depends(caller)) -> TokenAnswer:
    """Replace this device's token. The answer holds the new token, shown only once; the token
    that made the request is refused (401) from the next request on. Any role; nothing else changes
    (device id, seq, scope). A device that loses this answer has lost its identity: it enrols again."""
    with write_transaction(request.app.state.engine) as conn:
        token = devices.rotate(conn, who.device.id, who.token)
    if token is None:  # another request rotated (or revocation took) this token in between
        raise ApiError(401, "unknown_token", "this token is not known: enrol the device again")
    return TokenAnswer(token=token)
