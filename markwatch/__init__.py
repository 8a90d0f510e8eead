"""markwatch: find enterprise names and listings that imitate protected marks."""

__version__ = "0.1.0"
