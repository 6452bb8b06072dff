import re

import pytest

from dockyard.domain.ids import PREFIXES, id_pattern, is_id_of, new_id

WIRE_ID = re.compile(r"^[a-z]{3,5}_[0-9a-hjkmnp-tv-z]{26}$")


@pytest.mark.parametrize("kind", sorted(PREFIXES))
def test_new_id_has_the_kind_prefix_and_a_26_char_crockford_body(kind: str) -> None:
    value = new_id(kind)
    assert value.startswith(PREFIXES[kind] + "_")
    assert WIRE_ID.fullmatch(value), value
    assert is_id_of(kind, value)


def test_every_kind_has_its_own_prefix() -> None:
    assert len(set(PREFIXES.values())) == len(PREFIXES)


@pytest.mark.parametrize("kind", sorted(PREFIXES))
def test_an_id_of_one_kind_is_not_an_id_of_another(kind: str) -> None:
    value = new_id(kind)
    others = [k for k in PREFIXES if k != kind]
    assert not any(is_id_of(other, value) for other in others)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "prj_",
        "prj",
        "PRJ_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "prj_01HZZZZZZZZZZZZZZZZZZZZZZZ",  # upper case
        "prj_01hzzzzzzzzzzzzzzzzzzzzzz",  # 25 chars
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzzz",  # 27 chars
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzi",  # i, l, o, u are not Crockford digits
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzl",
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzo",
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzu",
        "prj-01hzzzzzzzzzzzzzzzzzzzzzzz",
        " prj_01hzzzzzzzzzzzzzzzzzzzzzzz",
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzz\n",
        "prj_01hzzzzzzzzzzzzzzzzzzzzzzz/../x",
    ],
)
def test_malformed_project_ids_are_refused(value: str) -> None:
    assert not is_id_of("project", value)


def test_a_hand_written_valid_id_is_accepted() -> None:
    assert is_id_of("project", "prj_01hzzzzzzzzzzzzzzzzzzzzzzz")
    assert re.fullmatch(id_pattern("project"), "prj_01hzzzzzzzzzzzzzzzzzzzzzzz")


def test_ids_sort_in_creation_order_across_digit_boundaries() -> None:
    # 31 -> 32 and 1023 -> 1024 roll a base-32 digit over; fixed width keeps lexical == numeric order.
    moments = [0, 1, 31, 32, 1023, 1024, 1_700_000_000_000, 1_700_000_000_001, 2**50 - 1]
    ids = [new_id("project", now_ms=ms) for ms in moments]
    assert ids == sorted(ids)
    assert ids[0].startswith("prj_0000000000")


def test_ids_made_in_the_same_millisecond_are_distinct() -> None:
    ids = {new_id("deployment", now_ms=1_700_000_000_000) for _ in range(2000)}
    assert len(ids) == 2000
    assert {i[:14] for i in ids} == {new_id("deployment", now_ms=1_700_000_000_000)[:14]}


def test_ids_made_now_are_newer_than_ids_from_the_past() -> None:
    assert new_id("project", now_ms=1_600_000_000_000) < new_id("project")


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        new_id("spaceship")
