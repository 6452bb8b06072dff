"""Display names and slugs."""

import re

from dockyard.domain.errors import Invalid

_NON_SLUG = re.compile(r"[^a-z0-9]+")
NAME_MAX = 80
SLUG_MAX = 63


def slugify(name: str) -> str:
    slug = _NON_SLUG.sub("-", name.lower()).strip("-")[:SLUG_MAX].strip("-")
    if not slug:
        raise Invalid(
            f"Name {name!r} has no letters or digits to make a slug from.",
            code="invalid_name",
            next_action="Use a name with at least one letter or digit, e.g. 'web'.",
        )
    return slug
