import re

import pytest

from dockyard.domain.errors import Invalid
from dockyard.domain.names import SLUG_MAX, slugify

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("web", "web"),
        ("Web", "web"),
        ("My Web App", "my-web-app"),
        ("  --Hello__World--  ", "hello-world"),
        ("api.v2", "api-v2"),
        ("a  b\tc", "a-b-c"),
        ("Shop #1 (EU)", "shop-1-eu"),
        ("42", "42"),
    ],
)
def test_slug_is_lower_case_words_joined_by_single_dashes(name: str, slug: str) -> None:
    assert slugify(name) == slug


@pytest.mark.parametrize(
    "name", ["x" * 200, "a" * 62 + "-bbbb", "a" * 62 + " b", "word " * 40, "é" * 10 + "a" * 70]
)
def test_long_names_give_slugs_of_at_most_63_chars_without_a_dangling_dash(name: str) -> None:
    slug = slugify(name)
    assert 0 < len(slug) <= SLUG_MAX == 63
    assert SLUG.fullmatch(slug), slug


@pytest.mark.parametrize("name", ["Café Olé", "日本 web", "naïve—name", "x\x00y"])
def test_non_ascii_and_control_characters_never_reach_the_slug(name: str) -> None:
    assert SLUG.fullmatch(slugify(name))


@pytest.mark.parametrize("name", ["web", "My Web App", "  --Hello__World--  ", "x" * 200])
def test_slugify_is_idempotent(name: str) -> None:
    assert slugify(slugify(name)) == slugify(name)


@pytest.mark.parametrize("name", ["", "   ", "!!!", "---", "日本", "💥"])
def test_names_without_letters_or_digits_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        slugify(name)
    err = caught.value
    assert err.status == 422 and err.code == "invalid_name"
    assert err.next_action and "letter or digit" in err.next_action
    assert err.body()["error"]["code"] == "invalid_name"
