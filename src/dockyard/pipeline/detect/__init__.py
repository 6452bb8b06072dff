"""Detect: read an app folder (never run, import or fetch anything) and say what it is and how to run it.

Precedence, highest first: dockyard.yml values; a Procfile `web:` command; a Python or Node server; a
front-end build served as static files; a plain static site; a Dockerfile only when nothing else is there.
"""

from dockyard.pipeline.detect.evidence import Evidence
from dockyard.pipeline.detect.precedence import detect

__all__ = ["Evidence", "detect"]
