"""pulsehost runs electroporation protocols: rig, engine, checks, journal, CLI and UI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pulsehost")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
