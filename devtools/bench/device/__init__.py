"""`python -m devtools.bench.device`: the device store's figures against SQLite itself.

Performance is measured here, by a command, not by timed tests (they fail on a
loaded CI machine and say nothing about a phone). The bench builds, in a
temporary directory that it deletes, what one volunteer's phone holds after a
few days of work (phone.py), and measures the steps a volunteer waits for
(measures.py):

- opening the store (reading the data key, checking it, the schema),
- the households screen's first page of a hamlet, and of all hamlets,
- search as you type on the folded key (queries matching many, some, one, none),
  and a keystroke as the households screen makes it,
- recording a visit (its events in one transaction, as record_outcome writes it),
- reading a push batch of 500 pending events,
- applying a pulled page of 500 events, as a sync does.

Each figure comes with the RAW LIMIT measured in the same run on the same
machine (raw.py): the same rows, decrypted, in a plain sqlite3 database with the
same pragmas (WAL, synchronous=FULL) and indexes, and the cheapest SQL that
gives the same answer (a SELECT of the same page, a LIKE over a clear folded
column, an INSERT of the same bytes). The ratio is raw / ours: 1.0 is "as fast
as SQLite itself", 0.1 is ten times slower.

The store is built only through Store's public API (apply_pulled for what the
server sent, record_visit / update_person / update_household / acknowledge for
the volunteer's own work). The standard library and what field_app already
uses; never sync_server (it measures the phone, which does not carry it).
BENCHMARKS.md, "Device (field app store)", explains the figures and the budget
a phone implies.
"""
from .run import main, run

__all__ = ["main", "run"]
