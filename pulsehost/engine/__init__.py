"""The session engine: a state machine that delivers a plan train by train."""
