"""The device's conversation with the server: one HTTP client (http.py) under the sync
client (sync.py) and the online calls of the leader's and officer's screens (server_api.py)."""
