"""`python3 apt_mirror.py [APT_DIR]`: the Debian archive this machine's apt sources name.

Reads APT_DIR (default /etc/apt) as apt does: sources.list and sources.list.d/*.list (one-line
format, `deb [options] URI SUITE COMPONENTS...`), sources.list.d/*.sources (deb822 stanzas, what
Debian 12 installs), skipping `deb-src`, disabled stanzas and comments. Prints the first archive
that carries SUITE (bookworm, what debootstrap fetches), else the first that carries another Debian
release (a -security or -updates archive, or a vendor's, is no mirror); exits 1 with the reason
when there is none.
Standard library only: it runs with the system python3 before any venv exists.
"""

import re
import sys
from pathlib import Path

SUITE = "bookworm"
RELEASES = frozenset(
    {"buster", "bullseye", "bookworm", "trixie", "forky", "sid"}
    | {"oldstable", "stable", "testing", "unstable"}
)
SCHEMES = re.compile(r"(https?|ftp|file):")
Entry = tuple[str, list[str]]  # (uri, suites)


def one_line(text: str) -> list[Entry]:
    entries = []
    for line in text.splitlines():
        words = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            entries.append((words[1], [words[2]]))
    return entries


def deb822(text: str) -> list[Entry]:
    entries = []
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:  # a continuation of the field above
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        enabled = fields.get("enabled", "yes").lower() not in ("no", "false", "0")
        if enabled and "deb" in fields.get("types", "").split():
            entries += [(uri, fields.get("suites", "").split()) for uri in fields.get("uris", "").split()]
    return entries


def sources(apt: Path) -> list[Entry]:
    listed = sorted([*apt.glob("sources.list.d/*.list"), *apt.glob("sources.list.d/*.sources")])
    entries: list[Entry] = []
    for path in [apt / "sources.list", *listed]:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        entries += deb822(text) if path.suffix == ".sources" else one_line(text)
    return [(uri.rstrip("/"), suites) for uri, suites in entries if SCHEMES.match(uri)]


def mirror(apt: Path) -> str | None:
    entries = sources(apt)
    with_suite = [uri for uri, suites in entries if SUITE in suites]
    other = [uri for uri, suites in entries if RELEASES.intersection(suites)]
    return next(iter(with_suite + other), None)


def main() -> None:
    apt = Path(sys.argv[1] if len(sys.argv) > 1 else "/etc/apt")
    found = mirror(apt)
    if found is None:
        sys.exit(
            f"no Debian archive in the apt sources under {apt} (sources.list, sources.list.d/*.list "
            "and *.sources); set DOCKYARD_DEBIAN_MIRROR to the URL of a Debian mirror"
        )
    print(found)


if __name__ == "__main__":
    main()
