"""The dossier's options from the app's settings (CLI and review site build it the same way)."""

from __future__ import annotations

from typing import Any

from markwatch.config import Settings


def dossier_options(settings: Settings, **kw: Any) -> Any:
    """``alerts.cases.dossier.DossierOptions``: applicant, platforms and their link limits, the TSA."""
    from alerts.cases.dossier import DossierOptions
    from markwatch.services.timestamping import crawler_post

    cs = settings.cases
    platforms = dict(cs.platforms)
    for src, rule in cs.platform_rules.items():
        if rule.name:
            platforms[src] = rule.name
    tsa = settings.evidence.tsa_url or ""
    return DossierOptions(
        chromium=cs.chromium,
        timeout=cs.timeout,
        platforms=platforms,
        applicant=cs.applicant.model_dump(),
        tsa=tsa,
        stamp_post=crawler_post(settings) if tsa else None,
        max_links={src: rule.max_links for src, rule in cs.platform_rules.items()},
        **kw,
    )
