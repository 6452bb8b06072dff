"""Variable rules and precedence, without I/O."""

import pytest

from dockyard.domain import variables as v
from dockyard.domain.errors import Invalid


def entry(key: str, scope: str, value: str, exposure: str = "runtime", secret: bool = False) -> v.Entry:
    return v.Entry(
        key=key,
        exposure=exposure,  # type: ignore[arg-type]
        scope=scope,  # type: ignore[arg-type]
        kind="secret" if secret else "plain-config",
        is_secret=secret,
        value=None if secret else value,
        secret_ref="sev_x" if secret else None,
    )


# Every subset of layers that holds KEY: the highest layer wins.
PRECEDENCE_TABLE = [
    (("defaults",), "defaults"),
    (("defaults", "project"), "project"),
    (("project", "environment"), "environment"),
    (("defaults", "project", "environment"), "environment"),
    (("environment", "resource"), "resource"),
    (("defaults", "resource"), "resource"),
    (("defaults", "project", "environment", "resource"), "resource"),
    (("resource", "deployment"), "deployment"),
    (("defaults", "project", "environment", "resource", "deployment"), "deployment"),
]


@pytest.mark.parametrize(("layers", "winner"), PRECEDENCE_TABLE)
def test_the_highest_layer_wins_and_the_others_are_named(layers: tuple[str, ...], winner: str) -> None:
    # given in an order unrelated to precedence
    resolved = v.resolve([entry("KEY", scope, f"from-{scope}") for scope in reversed(layers)])
    assert len(resolved) == 1
    assert resolved[0].winner.value == f"from-{winner}" and resolved[0].winner.scope == winner
    assert set(resolved[0].overridden) == set(layers) - {winner}


def test_build_time_and_runtime_of_one_key_are_separate_identities() -> None:
    resolved = v.effective(
        [entry("API", "environment", "build", "build-time"), entry("API", "resource", "run", "runtime")]
    )
    assert [(e.exposure, e.value) for e in resolved] == [("build-time", "build"), ("runtime", "run")]


@pytest.mark.parametrize("key", ["1ABC", "A-B", "", "A B", "Ä", "x" * 257])
def test_invalid_keys_are_refused_with_a_clear_code(key: str) -> None:
    with pytest.raises(Invalid) as caught:
        v.check_key(key)
    assert caught.value.code == "variable_key_invalid"


@pytest.mark.parametrize("key", ["A", "_A", "a_b_1", "DATABASE_URL"])
def test_valid_keys(key: str) -> None:
    assert v.check_key(key) == key


def test_secrets_and_secret_looking_names_are_refused_at_build_time() -> None:
    with pytest.raises(Invalid) as caught:
        v.check_entry("PUBLIC_X", "value-1234", "build-time", is_secret=True)
    assert caught.value.code == "secret_build_time_forbidden"
    with pytest.raises(Invalid):
        v.check_entry("STRIPE_TOKEN", "value-1234", "build-time", is_secret=False)
    v.check_entry("STRIPE_TOKEN", "value-1234", "runtime", is_secret=True)
    v.check_entry("PUBLIC_URL", "https://x", "build-time", is_secret=False)


def test_a_value_over_the_limit_is_refused_without_echoing_it() -> None:
    big = "z" * (v.MAX_VALUE_BYTES + 1)
    with pytest.raises(Invalid) as caught:
        v.check_entry("BIG", big, "runtime", is_secret=True)
    assert caught.value.code == "variable_value_too_large" and "zzzz" not in caught.value.message


def test_short_secrets_are_refused_because_they_cannot_be_masked() -> None:
    with pytest.raises(Invalid) as caught:
        v.check_entry("PIN", "123", "runtime", is_secret=True)
    assert caught.value.code == "secret_value_too_short"


def test_kind_secret_with_is_secret_false_is_a_conflict() -> None:
    assert v.secret_flag("K", "secret", None) is True
    assert v.secret_flag("K", "plain-config", True) is True
    with pytest.raises(Invalid):
        v.secret_flag("K", "secret", False)


def test_a_snapshot_holds_secrets_only_as_references_and_values_come_back_by_reference() -> None:
    entries = [entry("TOKEN", "resource", "", secret=True), entry("MODE", "environment", "fast")]
    doc = v.snapshot(entries, "ens_1", "env_1", "t")
    token = next(x for x in doc["variables"] if x["key"] == "TOKEN")
    assert token["value"] == v.MASK and token["secretRef"] == "sev_x"
    assert doc["precedence"] == list(v.PRECEDENCE)
    assert v.values(doc, "runtime", {"sev_x": "plain-secret"}) == {"TOKEN": "plain-secret", "MODE": "fast"}
    assert v.values(doc, "build-time", {}) == {}
