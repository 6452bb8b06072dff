"""Replace secret values in text with `****`. Pure.

Every value is masked whole and, for a multi-line value, line by line (a log line holds one line of
it). Longer values are tried first so one secret containing another is masked completely.
"""

import re
from collections.abc import Iterable

from dockyard.domain.variables import MASK, MIN_SECRET_LENGTH


class Masker:
    def __init__(self, values: Iterable[str] = ()) -> None:
        needles: set[str] = set()
        for value in values:
            for piece in (value, *value.splitlines()):
                piece = piece.strip()
                if len(piece) >= MIN_SECRET_LENGTH:
                    needles.add(piece)
        ordered = sorted(needles, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None and text else text

    def masks(self, text: str) -> bool:
        return bool(self._pattern and self._pattern.search(text))


NO_MASK = Masker()
