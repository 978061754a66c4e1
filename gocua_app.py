"""The phone build's entry point: `flet build` runs a module at the app root
(pyproject.toml: [tool.flet.app] module = "gocua_app"). It starts the field
app exactly as `gocua-app` does; on the phone the data dir is Flet's
app-private storage (FLET_APP_STORAGE_DATA)."""
import sys

from field_app.app import main

if __name__ == "__main__":
    sys.exit(main([]))
