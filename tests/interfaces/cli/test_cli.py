"""The real `dockyard` binary against a real `dockyard serve`: tables for people, JSON for scripts."""

import json
import socket
import subprocess
from typing import Any

import pytest

from certs import self_signed
from dockyard.domain.ids import is_id_of, new_id
from dockyard.operations.catalog import catalog

pytestmark = pytest.mark.e2e


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout


def failed(done: subprocess.CompletedProcess[str], exit_code: int, code: str) -> str:
    """stderr of a refused command, after checking it reads like an answer, not a crash."""
    assert done.returncode == exit_code, (
        f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    )
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert f"Error [{code}]" in done.stderr, done.stderr
    assert "Next:" in done.stderr, done.stderr
    return done.stderr


def create(live_server: Any, name: str) -> str:
    pid = live_server.cli_json("projects", "create", "--name", name)["id"]
    assert is_id_of("project", pid)
    return pid


def test_create_then_list_shows_a_readable_table(live_server: Any) -> None:
    out = ok(live_server.cli("projects", "create", "--name", "web"))
    pid = next(word for word in out.split() if word.startswith("prj_"))
    table = ok(live_server.cli("projects", "list"))
    assert "{" not in table, "a table for people, not JSON"
    header = next(line for line in table.splitlines() if " name " in line)
    assert all(col in header for col in ("id", "name", "slug", "lifecycleStatus"))
    row = next(line for line in table.splitlines() if pid in line)
    assert " web " in row and " active " in row
    assert "organizationId" not in table


def test_json_output_parses_and_matches_the_api(live_server: Any) -> None:
    pid = create(live_server, "JSON Shop")
    listed = live_server.cli_json("projects", "list")
    assert set(listed) == {"items", "nextCursor"}
    mine = next(p for p in listed["items"] if p["id"] == pid)
    assert (mine["name"], mine["slug"], mine["lifecycleStatus"]) == ("JSON Shop", "json-shop", "active")
    assert live_server.cli_json("projects", "count")["count"] == len(listed["items"])


def test_show_by_id_as_json_and_as_a_table(live_server: Any) -> None:
    pid = create(live_server, "Show Me")
    shown = live_server.cli_json("projects", "show", pid)
    assert shown["id"] == pid and shown["name"] == "Show Me" and shown["slug"] == "show-me"
    table = ok(live_server.cli("projects", "show", pid))
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert lines["slug"] == ["show-me"] and lines["archivedAt"] == ["-"]


def test_options_with_limit_and_query(live_server: Any) -> None:
    for i in range(3):
        create(live_server, f"paged-{i}")
    page = live_server.cli_json("projects", "list", "--limit", "2")
    assert len(page["items"]) == 2 and page["nextCursor"]
    nxt = live_server.cli_json("projects", "list", "--limit", "2", "--cursor", page["nextCursor"])
    assert {p["id"] for p in nxt["items"]}.isdisjoint(p["id"] for p in page["items"])


def test_archive_and_delete_with_confirmation_flag(live_server: Any) -> None:
    pid = create(live_server, "to-delete")
    ok(live_server.cli("projects", "archive", pid, "--reason", "done"))
    assert live_server.cli_json("projects", "show", pid)["archiveReason"] == "done"
    refused = failed(
        live_server.cli("projects", "delete", pid, "--project-id", new_id("project")),
        1,
        "confirmation_mismatch",
    )
    assert pid in refused
    ok(live_server.cli("projects", "delete", pid, "--project-id", pid))
    failed(live_server.cli("projects", "show", pid), 1, "project_not_found")


@pytest.mark.parametrize("bad", ["prj_bad", new_id("environment"), "web"])
def test_a_bad_id_prints_the_code_and_next_step_and_exits_1(live_server: Any, bad: str) -> None:
    err = failed(live_server.cli("projects", "show", bad), 1, "validation_failed")
    assert "project id" in err


@pytest.mark.parametrize("suffix", ["/delete-check", "/../../health", "/.."])
def test_an_id_with_path_characters_is_refused_not_sent_elsewhere(live_server: Any, suffix: str) -> None:
    pid = create(live_server, f"path-{len(suffix)}-{suffix.count('.')}")
    failed(live_server.cli("projects", "show", pid + suffix, "--json"), 1, "validation_failed")


def test_an_unknown_project_says_how_to_find_one(live_server: Any) -> None:
    err = failed(live_server.cli("projects", "show", new_id("project")), 1, "project_not_found")
    assert "dockyard projects list" in err


def test_a_conflict_is_reported_not_crashed_on(live_server: Any) -> None:
    create(live_server, "twice")
    failed(live_server.cli("projects", "create", "--name", "Twice"), 1, "project_slug_conflict")


def test_without_a_token_the_cli_says_where_the_token_is(live_server: Any, tmp_path: Any) -> None:
    err = failed(
        live_server.cli("projects", "list", env={"DOCKYARD_DATA_DIR": str(tmp_path)}), 1, "unauthorized"
    )
    assert "admin.token" in err


def test_a_wrong_token_in_the_environment_is_refused(live_server: Any) -> None:
    failed(live_server.cli("projects", "list", env={"DOCKYARD_TOKEN": "dky_wrong"}), 1, "invalid_token")


def test_public_health_works_without_a_token(live_server: Any, tmp_path: Any) -> None:
    health = json.loads(
        ok(live_server.cli("system", "health", "--json", env={"DOCKYARD_DATA_DIR": str(tmp_path)}))
    )
    assert health["status"] == "ok"


def test_no_control_plane_means_unreachable_and_exit_2(live_server: Any) -> None:
    with socket.socket() as held:  # bound but not listening: connections are refused
        held.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{held.getsockname()[1]}"
        done = live_server.cli("projects", "list", env={"DOCKYARD_URL": url})
    err = failed(done, 2, "control_plane_unreachable")
    assert url in err and "dockyard start" in err


def test_every_catalog_operation_is_a_command(live_server: Any) -> None:
    groups: dict[tuple[str, ...], list[str]] = {}
    for op in catalog():
        groups.setdefault(op.cli_path[:-1], []).append(op.cli_path[-1])
    top = ok(live_server.cli("--help"))
    for group, names in groups.items():
        assert group[0] in top
        listed = ok(live_server.cli(*group, "--help"))
        missing = [n for n in names if n not in listed]
        assert not missing, f"dockyard {' '.join(group)} lacks {missing}"


def test_a_certificate_is_imported_from_files_and_an_unreadable_file_is_a_clear_error(
    live_server: Any, tmp_path: Any
) -> None:
    project = create(live_server, "TLS shop")
    env = live_server.cli_json(
        "environments", "create", "--project-id", project, "--name", "prod", "--kind", "production"
    )
    resource = live_server.cli_json(
        "resources", "create", "--project-id", project, "--environment-id", env["id"], "--name", "web"
    )["id"]
    server = next(
        s["id"] for s in live_server.cli_json("servers", "list")["items"] if s["providerKey"] == "local"
    )
    binding = live_server.cli_json(
        "domain-bindings",
        "create",
        "--project-id",
        project,
        "--environment-id",
        env["id"],
        "--resource-id",
        resource,
        "--server-id",
        server,
        "--domain-name",
        "files.example.com",
    )["id"]
    ok(live_server.cli("domain-bindings", "confirm-ownership", binding, "--method", "manual"))
    pem = self_signed("files.example.com")
    (tmp_path / "chain.pem").write_text(pem.chain)
    (tmp_path / "key.pem").write_text(pem.key)

    def import_with(key_file: str) -> list[str]:
        chain = ["--certificate-chain-file", str(tmp_path / "chain.pem")]
        return [
            "certificates",
            "import",
            "--domain-binding-id",
            binding,
            *chain,
            "--private-key-file",
            key_file,
        ]

    missing = live_server.cli(*import_with(str(tmp_path / "nope.pem")))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "--private-key-file" in missing.stderr and "nope.pem" in missing.stderr

    imported = live_server.cli_json(*import_with(str(tmp_path / "key.pem")))
    shown = live_server.cli_json("certificates", "show", imported["certificateId"])
    assert shown["status"] == "active" and shown["subjectAlternativeNames"] == ["files.example.com"]
    assert "PRIVATE KEY" not in json.dumps(shown)
