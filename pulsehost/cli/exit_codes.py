"""Exit codes shared by every command (documented in docs/cli.md)."""

OK = 0
CHECK_FAILED = 1  # the plan is not deliverable, a check stopped delivery, a journal is broken
BAD_INPUT = 2  # bad file, bad argument, unknown id
INSTRUMENT_FAULT = 3  # instrument or link fault
INTERRUPTED = 130  # the operator interrupted
