"""Telegram adapter: digest messages, vote buttons and commands over topicscout.service."""
