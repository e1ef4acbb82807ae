"""Command-line interface. Each command lives in its own module with `register()`.

Command modules import only argparse-level things at import time, so that
`pulsehost --help` stays fast; heavy imports happen inside the handlers.
"""
