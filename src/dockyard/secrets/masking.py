"""Replace secret values in text with `****`. Pure.

Every value is masked whole and, for a multi-line value, line by line (a log line holds one line of
it). Occurrences may overlap (one secret containing or running into another): every character that
belongs to any occurrence is hidden, each run of them becomes one `****`.

Text read from a log is masked as whole lines and only then sliced (`Masker.line`): a reader resuming
at a byte offset inside a line sees `****` for the rest of a secret that began before the offset,
never the secret minus its first characters. Where a piece of text is cut off from the rest of its
line (an unfinished line, a line read in pieces), a start that is a secret's suffix, or an end that
is a secret's prefix, of at least MIN_CUT_BYTES is masked too.
"""

import re
from collections.abc import Iterable, Sequence
from typing import AnyStr

from dockyard.domain.variables import MASK, MIN_SECRET_LENGTH

MIN_CUT_BYTES = 4  # a secret's prefix or suffix this long at a cut is hidden; shorter ones show
Span = tuple[int, int]


class Masker:
    def __init__(self, values: Iterable[str] = ()) -> None:
        pieces: set[str] = set()
        for value in values:
            for piece in (value, *value.splitlines()):
                piece = piece.strip()
                if len(piece) >= MIN_SECRET_LENGTH:
                    pieces.add(piece)
        ordered = sorted(pieces, key=len, reverse=True)  # at one position the longest one wins
        self._texts = ordered
        self._bytes = [p.encode() for p in ordered]
        self._text_pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._bytes_pattern = re.compile(b"|".join(map(re.escape, self._bytes))) if ordered else None

    def __bool__(self) -> bool:
        return bool(self._texts)

    def __call__(self, text: str) -> str:
        """`text` (whole lines) with every secret in it masked."""
        return self.masked(text)[0]

    def masked(self, text: str) -> tuple[str, bool]:
        """`text` masked, and whether anything was."""
        spans = self._spans(text, self._text_pattern, self._texts, open_start=False, open_end=False)
        return _render(text, spans, 0), bool(spans)

    def masks(self, text: str) -> bool:
        return bool(self._text_pattern and self._text_pattern.search(text))

    def line(
        self, data: bytes, cut: int = 0, *, open_start: bool = False, open_end: bool = False
    ) -> tuple[str, bool]:
        """The text of `data[cut:]` with every secret occurrence anywhere in `data` masked, and whether
        anything shown was. `data` is one line of a log (UTF-8, without its line end) or, with
        `open_start`/`open_end`, a piece of one whose start/end is a cut."""
        spans = self._spans(data, self._bytes_pattern, self._bytes, open_start=open_start, open_end=open_end)
        shown = [(max(s, cut), e) for s, e in spans if e > cut]
        return _render(data, shown, cut), bool(shown)

    def _spans(
        self,
        data: AnyStr,
        pattern: "re.Pattern[AnyStr] | None",
        needles: Sequence[AnyStr],
        *,
        open_start: bool,
        open_end: bool,
    ) -> list[Span]:
        if pattern is None or not data:
            return []
        found: list[Span] = []
        match = pattern.search(data)
        while match is not None:  # from the next position, not the match's end: overlaps count
            found.append(match.span())
            match = pattern.search(data, match.start() + 1)
        if open_start and (n := _longest(data, needles, at_start=True)):
            found.append((0, n))
        if open_end and (n := _longest(data, needles, at_start=False)):
            found.append((len(data) - n, len(data)))
        return _merge(found)


def _longest(data: AnyStr, needles: Sequence[AnyStr], *, at_start: bool) -> int:
    """The length of the longest proper suffix (at_start) or prefix of a needle, of at least
    MIN_CUT_BYTES, that `data` starts (at_start) or ends with; 0 when none."""
    best = 0
    for needle in needles:
        for n in range(min(len(needle) - 1, len(data)), max(best, MIN_CUT_BYTES - 1), -1):
            if data.startswith(needle[-n:]) if at_start else data.endswith(needle[:n]):
                best = n
                break
    return best


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _render(data: AnyStr, spans: list[Span], cut: int) -> str:
    """`data[cut:]` as text with each span (all within it) replaced by MASK."""
    parts, pos = [], cut
    for start, end in spans:
        parts += [_text(data[pos:start]), MASK]
        pos = end
    parts.append(_text(data[pos:]))
    return "".join(parts)


def _text(data: str | bytes) -> str:
    return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data


NO_MASK = Masker()
