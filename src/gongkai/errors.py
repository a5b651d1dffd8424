"""One family of exceptions: a user sees one clear line, never a traceback."""


class GongkaiError(Exception):
    """Base of every error gongkai raises on purpose."""


class UnreadableError(GongkaiError):
    """The input could not be read at all (wrong type, corrupt, encrypted, over a limit)."""


class UnsupportedFormatError(UnreadableError):
    """The bytes are of a kind gongkai has no reader for."""


class LimitExceededError(UnreadableError):
    """Parsing went over the time limit or memory cap."""
