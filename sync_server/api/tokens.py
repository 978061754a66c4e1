"""POST /api/v1/token/rotate: a new token for the calling device; the old one dies at once."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from ..errors import responses
from ..services import enrolment
from .deps import Caller, caller, writing

router = APIRouter()


class TokenAnswer(BaseModel):
    token: str


@router.post("/api/v1/token/rotate", response_model=TokenAnswer, responses=responses(401, 403, 410, 429))
def rotate(request: Request, who: Caller = Depends(caller)) -> TokenAnswer:
    """Replace this device's token. The answer holds the new token, shown only once; the token
    that made the request is refused (401) from the next request on. Any role; nothing else changes
    (device id, seq, scope). A device that loses this answer has lost its identity: it enrols again."""
    with writing(request) as conn:
        return TokenAnswer(token=enrolment.rotate(conn, who))
