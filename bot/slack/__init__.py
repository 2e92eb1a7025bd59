"""The Slack layer: parse payloads, call `bot.answers`, send. Nothing else lives here."""
