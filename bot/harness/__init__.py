"""A local stand-in for Slack: fake Web API + Socket Mode, a driver, and a terminal renderer."""
