"""The daily digest, Slack-free: content (what it says), store (SQLite), delivery (exactly once), scheduler.

The Slack layer renders a `Digest` (`bot.slack.ui.digest`) and posts it (`bot.slack.digest`).
"""
