"""Dockyard: a self-hosted deployment platform."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client (click, rich, pygments: ~4.5 MB resident) whenever those are
# installed, as Dockyard's CLI installs them; Dockyard never runs it, and httpx works without it.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
