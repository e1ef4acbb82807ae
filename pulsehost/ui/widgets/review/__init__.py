"""Review screen widgets: the session list and a session's header."""
