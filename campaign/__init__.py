"""The one source of every rule both sides use (standard library only: the phone carries it).

- vocabulary: the closed code lists and their labels (vi, en)
- events: the envelope, canonical form, digest, one validator per kind
- text: NFC, folding, the text checks (control characters)
- ids: uuid7
- time: Vietnam's time zone, the local day and year of an instant
- order: natural order of names and addresses ("Tổ 2" before "Tổ 10"), on both sides
- roles: roles and capabilities: who reads what, who manages what, which kinds a role may write
- projection: state as a projection of events, conflicts, moves (with the children that move)
- totals: what counts; contribution, delta, recount, the wire row
- followup: who still needs the team (follow-up lists, needs_revisit)
- areas (+ data/): the official provinces and communes
"""
