"""The daily digest: content (pure), store (SQLite), scheduler and poster."""
