"""Load: many users, one agent service, real Locust (always in a subprocess: this package
never imports locust; ``user.py`` is the one module meant for a Locust process)."""
