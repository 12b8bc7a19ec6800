"""Exceptions the engine raises for its callers (CLI, platform) to show as clear messages."""


class EngineError(Exception):
    """Base class: the message is meant for the user, not a traceback."""


class DataError(EngineError):
    """The input table or images cannot be used (names the file, row or field)."""


class ModelUnavailableError(EngineError):
    """Model weights are missing: the message names the model and how to supply weights."""


class ConfigError(EngineError):
    """Engine settings that cannot work (e.g. K larger than the number of pairs)."""
