"""topicscout: what should we post about today?

Kept import-light on purpose: ``sources`` and ``trends`` import the small shared types from
``topicscout.types`` and must not drag in the CLI, the store or the bot.
"""

__version__ = "0.1.0"
