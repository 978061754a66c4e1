"""Per-device push rate limit: a token bucket in this process.

A phone pushes a handful of batches a sync; a device that pushes far more is a
loop or an attack, and gets 429 with the seconds to wait. Several processes
each keep their own buckets: the limit is per process, which is enough to stop
one device from starving the others.
"""
from __future__ import annotations

import threading
import time

from .config import PUSHES_PER_MINUTE
from .errors import ApiError

_lock = threading.Lock()
_buckets: dict[str, tuple[float, float]] = {}  # device -> (tokens, last refill)
BURST = 60


def check_push_rate(device_id: str, per_minute: int = PUSHES_PER_MINUTE) -> None:
    now = time.monotonic()
    rate = per_minute / 60.0
    with _lock:
        tokens, last = _buckets.get(device_id, (float(BURST), now))
        tokens = min(float(BURST), tokens + (now - last) * rate)
        if tokens < 1.0:
            _buckets[device_id] = (tokens, now)
            wait = int((1.0 - tokens) / rate) + 1
            raise ApiError(429, "rate_limited", f"too many pushes from this device: wait {wait} s",
                           retry_after=wait)
        _buckets[device_id] = (tokens - 1.0, now)
