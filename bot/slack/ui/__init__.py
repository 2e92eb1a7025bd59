"""The Slack UI: typed answers rendered as Block Kit messages and views."""
