"""Chinese text: classify messages into categories (later: duplicates, hot issues, replies)."""
