"""Telegram adapter: digest messages, vote buttons and commands over topicscout.service.

Entry points for the rest of the app: ``build_application`` / ``start_bot`` / ``stop_bot`` (the
long-polling bot) and ``send_digest`` / ``broadcast_digest`` (the daily digest), in bot.app.
"""
