"""The presets and example needles files shipped as package data, and id-or-path lookup.

A protocol argument is a path when it names an existing file or looks like one
(it has a directory part or ends in `.toml`); otherwise it is a preset id, the
file stem in `protocols/presets/`. Needles files resolve the same way against
`protocols/presets/needles/`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from protocols.errors import ProtocolError

_PRESETS = "presets"
_NEEDLES = "needles"


def _folder(*parts: str) -> Path:
    # The package is installed as plain files (editable or wheel), never zipped.
    return Path(str(resources.files("protocols").joinpath(*parts)))


def list_presets() -> tuple[str, ...]:
    """Ids of the bundled protocol presets, sorted."""
    return tuple(sorted(p.stem for p in _folder(_PRESETS).glob("*.toml")))


def list_needle_examples() -> tuple[str, ...]:
    """Names of the bundled example needles files, sorted."""
    return tuple(sorted(p.stem for p in _folder(_PRESETS, _NEEDLES).glob("*.toml")))


def _looks_like_path(text: str) -> bool:
    return text.endswith(".toml") or "/" in text or "\\" in text or Path(text).is_file()


def resolve_protocol(id_or_path: str | Path) -> tuple[Path, str]:
    """The file behind a preset id or a path, and how to name it in messages."""
    if isinstance(id_or_path, Path) or _looks_like_path(id_or_path):
        return Path(id_or_path), str(id_or_path)
    presets = list_presets()
    if id_or_path not in presets:
        raise ProtocolError(
            f"unknown protocol '{id_or_path}'; presets: {', '.join(presets)} "
            "(or give the path of a .toml file)"
        )
    path = _folder(_PRESETS, f"{id_or_path}.toml")
    return path, str(path)


def resolve_needles(id_or_path: str | Path) -> tuple[Path, str]:
    """The file behind a needles path or the name of a bundled example."""
    if isinstance(id_or_path, Path) or _looks_like_path(id_or_path):
        return Path(id_or_path), str(id_or_path)
    examples = list_needle_examples()
    if id_or_path not in examples:
        raise ProtocolError(
            f"no needles file '{id_or_path}'; bundled examples: {', '.join(examples)} "
            "(or give the path of a .toml file)"
        )
    path = _folder(_PRESETS, _NEEDLES, f"{id_or_path}.toml")
    return path, str(path)
