"""The sessions chain (see alerts/migrations/__init__.py)."""

from alerts.migrations.env import run

run()
