"""Errors that the CLI turns into one clear line and a non-zero exit."""


class ConfigError(Exception):
    """A configuration or marks file is wrong; the message names file, line and key."""

    exit_code = 2


class UserError(Exception):
    """A request that cannot be carried out (unknown id, unreachable server…)."""

    exit_code = 1
