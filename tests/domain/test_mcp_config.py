import pytest

from dockyard.domain import mcp_config
from dockyard.domain.errors import Invalid

SCHEMA = {
    "type": "object",
    "required": ["api_key"],
    "properties": {
        "api_key": {"type": "string", "x-secret": True},
        "region": {"type": "string", "enum": ["eu", "us"]},
        "db": {"type": "object", "properties": {"password": {"type": "string", "format": "password"}}},
        "retries": {"type": "integer", "minimum": 0},
    },
}


def fields(exc: Invalid) -> list[str]:
    return [e["field"] for e in exc.details["errors"]]


def test_valid_config_passes() -> None:
    mcp_config.validate(SCHEMA, {"api_key": "k", "region": "eu", "retries": 2})


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "provider_config.config.api_key"),
        ({"api_key": "k", "region": "mars"}, "provider_config.config.region"),
        ({"api_key": "k", "retries": -1}, "provider_config.config.retries"),
        ({"api_key": "k", "db": {"password": 5}}, "provider_config.config.db.password"),
    ],
)
def test_a_config_failing_the_schema_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(Invalid) as err:
        mcp_config.validate(SCHEMA, config)
    assert fields(err.value) == [field]
    assert field in err.value.message


def test_a_failing_secret_value_is_not_echoed() -> None:
    with pytest.raises(Invalid) as err:
        mcp_config.validate(SCHEMA, {"api_key": 123456789})
    assert "123456789" not in str(err.value.message) + str(err.value.details)


def test_secret_fields_are_masked() -> None:
    config = {"api_key": "k1", "region": "eu", "db": {"password": "p"}}
    assert mcp_config.masked(SCHEMA, config) == {
        "api_key": "********",
        "region": "eu",
        "db": {"password": "********"},
    }
    assert config["api_key"] == "k1"  # the original is untouched


def test_an_invalid_schema_is_refused() -> None:
    with pytest.raises(Invalid) as err:
        mcp_config.check_schema({"type": "object", "properties": {"a": {"type": "no-such-type"}}})
    assert err.value.details["field"] == "config.schema"
    with pytest.raises(Invalid):
        mcp_config.check_schema({"type": "array"})


def test_the_transformer_maps_config_to_env_args_and_headers() -> None:
    transformer = mcp_config.parse_transformer(
        '{"env": {"API_KEY": "{{config.api_key}}"}, "args": ["--region", "{{ config.region }}"],'
        ' "headers": {"Authorization": "Bearer {{config.api_key}}", "X-Db": "{{config.db.password}}"}}'
    )
    out = mcp_config.transform(transformer, {"api_key": "k1", "region": "eu", "db": {"password": "p"}})
    assert out.env == {"API_KEY": "k1"}
    assert out.args == ["--region", "eu"]
    assert out.headers == {"Authorization": "Bearer k1", "X-Db": "p"}
    assert mcp_config.transform(transformer, {}).env == {"API_KEY": ""}  # missing values render empty


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("not json", "config.transformer"),
        ({"code": "import os"}, "config.transformer"),
        ({"env": {"A": 1}}, "config.transformer.env"),
        ({"args": "--x"}, "config.transformer.args"),
    ],
)
def test_a_bad_transformer_is_refused_naming_the_field(raw: object, field: str) -> None:
    with pytest.raises(Invalid) as err:
        mcp_config.parse_transformer(raw)
    assert err.value.details["field"] == field
