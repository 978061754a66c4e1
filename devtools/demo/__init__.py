"""The demo campaign: two communes of Thành phố Hải Phòng, thirty days into a campaign.

`gocua-server demo` seeds Phường Hải Dương (10525, a ward of tổ dân phố) and
Xã Thanh Hà (10813, a rural commune of thôn) with about 16,000 households and
60,000 people, and the work of ten teams over the thirty days ending today,
then serves it with two field apps beside the API.

- world.py: the communes' hamlets, teams, devices and households (people from
  devtools/population.py);
- story.py: the thirty days as each device's events (visits from devtools/doorstep.py);
- seeding.py: the events through the server's push path, with real enrolments;
- serve.py: the command: seed once, then the API and the two web apps.

Deterministic: the same rng_seed and today give the same events, byte for byte
(device ids apart: the server draws those at enrolment).
"""
from .seeding import DemoError, DemoSummary, is_seeded, seed, spare_codes, summarise
from .serve import main

__all__ = ["DemoError", "DemoSummary", "is_seeded", "main", "seed", "spare_codes", "summarise"]
