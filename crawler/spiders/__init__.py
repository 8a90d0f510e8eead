"""Generic spiders driven by source files."""
