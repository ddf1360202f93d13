"""The one small exception family: user-facing failures carry a message fit to print as is."""


class TopicscoutError(Exception):
    """Base of every error we raise on purpose; the CLI prints it as one line, no traceback."""


class ConfigError(TopicscoutError):
    """The config file is missing, unreadable or invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[str], path: str = "") -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{len(problems)} problem(s) in config:\n" + "\n".join(problems))


class SourceError(TopicscoutError):
    """A source could not be fetched or parsed; the message names the source and what went wrong."""


class StorageError(TopicscoutError):
    """The database could not be opened or written (locked, full disk, corrupt)."""


class InputError(TopicscoutError):
    """A user-supplied value (file, timestamp, argument) is unusable."""


class DeliveryError(TopicscoutError):
    """A message could not be delivered to a chat; the message names the chat, never the token."""
