"""Item pipelines, one job each: validate → normalise → seen → screen → alert → record."""
