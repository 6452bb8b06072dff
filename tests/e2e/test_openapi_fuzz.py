"""Property-based fuzzing of both published OpenAPI documents (/api and /mcp-api) against a real serve.

Whatever a caller sends, the server never answers 5xx; what the schema says is valid is not refused
with 4xx (positive_data_acceptance: ids of the right kind, hosts, flags, cross-field rules are all in
the schema); every status answered is documented; an undeclared method is a 405 with `Allow`.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES_PER_OPERATION = 25
SEED = 20240601  # fixed: a failure reproduces with the same command
CHECKS = [
    "not_a_server_error",
    "positive_data_acceptance",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "unsupported_method",
]
DEADLINE_S = 900  # a hang guard: on 2 idle cores /api takes ~60 s, /mcp-api ~27 s

# Operations whose rule the published schema cannot carry yet, exempt from positive_data_acceptance
# only (every other check still runs on them). Each line says why; remove it when that changes.
SCHEMA_CANNOT_SAY = {
    # Two query parameters that depend on each other (serverId with scopeKind=deployment-target
    # only): OpenAPI has no cross-parameter constraint. The parameter's description says it.
    "access-policies.show",
    # deploymentId with routeScope=deployment-snapshot only, and required with it: the same kind of
    # cross-parameter rule. The parameters' descriptions say it.
    "resources.proxy-configuration",
    # `scope` (one JSON object) and `scope.*` are two spellings of one scope: both, saying different
    # things, are refused; OpenAPI has no cross-parameter constraint. The parameter's description says it.
    "runtime-monitoring.samples",
    "runtime-monitoring.rollup",
    # A .env document: its grammar (quotes, comments, `export`, continuation lines) is the parser's,
    # not a JSON Schema pattern; a line it cannot read is refused by number.
    "resources.import-variables",
    # config.transformer may be JSON text (the seed sends a string): the schema says so
    # (contentMediaType) but JSON Schema does not validate content; its object form is closed.
    "custom-provider-versions.create",
    "custom-servers.create",
    "custom-servers.deploy",
}


def config_file(tmp_path: Path) -> Path:
    """schemathesis.toml: the checks, and the exemptions above (an operation's own check settings
    apply only when the checks are chosen here rather than with --checks). TOML written by hand."""
    lines = ["[checks]", "enabled = false", *(f"{check}.enabled = true" for check in CHECKS), ""]
    for key in sorted(SCHEMA_CANNOT_SAY):
        lines += ["[[operations]]", f"include-operation-id = {json.dumps(key)}"]
        lines += ["checks.positive_data_acceptance.enabled = false", ""]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.mark.e2e
@pytest.mark.parametrize("family", ["api", "mcp-api"])
def test_generated_requests_get_answers_the_schema_promises(
    live_server: Any, tmp_path: Path, family: str
) -> None:
    assert SCHEMATHESIS.exists(), f"{SCHEMATHESIS} missing: pip install -e '.[dev]'"
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config_file(tmp_path)),
        "run",
        f"{live_server.url}/{family}/openapi.json",
        "--header",
        f"Authorization: Bearer {live_server.token}",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        # One worker for /mcp-api: two threads have tripped CPython 3.11's ast.parse (a
        # SystemError inside hypothesis, not an answer of ours); /api needs two to stay quick.
        "--workers",
        "2" if family == "api" else "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        # Text never carries NUL: the server refuses it everywhere, as the API description says.
        "--generation-allow-x00",
        "false",
        "--no-color",
    ]
    # Its own working directory: schemathesis writes caches and reports next to where it runs.
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=DEADLINE_S)
    output = f"$ {' '.join(command[:5])} ...\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, output
    assert "passed" in done.stdout, output
