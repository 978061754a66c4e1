"""The screens' logic without Flet: what the dashboard, the leader's screens and
the app lock show and decide, as plain data and plain functions, driven by
tests without the UI (tests/models/). The Flet views draw these
and wire the taps; nothing here imports Flet (tests/test_layout.py).

| module | for |
| --- | --- |
| `words.py` | times, numbers and failures in words, shared by the screens below |
| `dashboard.py` | views/dashboard.py: the snapshot of the server's answers, the figures and sentences drawn from it |
| `leader.py` | views/leader.py: the review queue, conflicts side by side, the team's sync |
| `relay.py` | views/relay.py: "Gửi nhờ" (seal), a carrier's upload, a receipt carried back, in words |
| `lock.py` | views/lock.py: the lock screen's flow, the PIN tasks, the sign-out steps |
"""
