"""Email alerts: one digest per brand-owner address per run, each alert delivered once.

recipients (who wants what) → source (alerts from the store) → render (Jinja2, escaped)
→ transport (SMTP or .eml outbox), with the ledger recording every step. The package
itself imports nothing so that markwatch.config can load `alerts.notify.settings` cheaply;
`alerts.notify.service.send_digests(...)` is the entry point; `markwatch.services.notify_run.notify(settings)`
wires the app's settings into it.
"""
