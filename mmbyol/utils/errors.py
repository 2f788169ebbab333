"""The errors mmbyol explains in one line.

Every error a user can act on (a bad config value, a checkpoint that is not
safe, not readable or does not fit, an unreadable image, a run stopped by
non-finite losses) derives from :class:`MMBYOLError`; ``tools/train.py``
prints it as one line and exits non-zero (``--debug`` shows the traceback).
"""


class MMBYOLError(Exception):
    """An error whose message alone tells the user what to do."""


class ConfigError(MMBYOLError, ValueError):
    """A config value that cannot work, with the key that holds it."""


class DataNotFoundError(MMBYOLError, FileNotFoundError):
    """An image folder or file list that is missing or holds no images."""
