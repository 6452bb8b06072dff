"""`python -m dockyard.runtimes.container_attach SPEC.json`: one container as one supervised process.

The per-resource runner (host_runner) supervises processes: it starts candidates next to the live
instance, forwards its front port to the promoted one, restarts crashes and stops what it retires.
This process lets a container take part in all of that unchanged: it creates and starts the
container (labelled, on the project's network, published on 127.0.0.1:hostPort), copies the
container's output to its own, and exits with the container's exit code; SIGTERM stops and removes
the container. Once it runs, the container's own address is written to `addressFile`, for the
kernel redirect (runtimes/redirect.py) to reach it with no process in between.
"""

import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, NotFound

STOP_TIMEOUT_S = 2  # well inside the runner's grace before it kills this process
SHARED = ("dockyard.managed-by", "dockyard.installation")  # what a project's network carries


def ensure_network(client: docker.DockerClient, name: str | None, labels: dict[str, str]) -> str | None:
    if not name:
        return None
    try:
        client.networks.get(name)
    except NotFound:
        with contextlib.suppress(APIError):  # a parallel attach created it first
            client.networks.create(name, driver="bridge", labels=labels)
    return name


def _remove(client: docker.DockerClient, name: str) -> None:
    with contextlib.suppress(NotFound, APIError):
        client.containers.get(name).remove(force=True)


def run(spec: dict[str, Any]) -> int:
    client = docker.DockerClient(
        base_url=spec["engine"], version=spec.get("apiVersion") or "auto", timeout=120
    )
    name = spec["name"]
    _remove(client, name)  # a container left by a killed attach process
    labels = spec.get("labels") or {}
    options: dict[str, Any] = {
        "name": name,
        "detach": True,
        "environment": spec.get("env") or {},
        "labels": labels,
        "ports": {f"{spec['containerPort']}/tcp": ("127.0.0.1", spec["hostPort"])},
        "network": ensure_network(
            client, spec.get("network"), {k: v for k, v in labels.items() if k in SHARED}
        ),
    }
    if spec.get("command"):
        options["command"] = ["/bin/sh", "-c", spec["command"]]
    if spec.get("memory"):
        options["mem_limit"] = spec["memory"]
    if spec.get("cpus"):
        options["nano_cpus"] = int(float(spec["cpus"]) * 1e9)
    if spec.get("volumes"):
        options["volumes"] = {
            host: {"bind": inside, "mode": "rw"} for host, inside in spec["volumes"].items()
        }
    stopping = threading.Event()
    box: list[Any] = []  # the container, once created

    def stop(*_: object) -> None:
        stopping.set()
        for container in box:
            with contextlib.suppress(NotFound, APIError):
                container.stop(timeout=STOP_TIMEOUT_S)

    # Asked to stop while the container is being created: it is removed as soon as it exists.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop, daemon=True).start())
    address = Path(spec["addressFile"]) if spec.get("addressFile") else None
    try:  # whatever happens from here (the port taken once the container exists, say), it goes
        box.append(client.containers.run(spec["image"], **options))
        if address is not None:
            _say_address(box[0], int(spec["containerPort"]), address)
        code = 0 if stopping.is_set() else _follow(box[0])
    finally:
        if address is not None:
            address.unlink(missing_ok=True)
        _remove(client, name)
    return 0 if stopping.is_set() else code


def _say_address(container: Any, port: int, path: Path) -> None:
    """Write where the running container answers (see protocol.address_file); nothing when the
    engine gives it no address (host networking, say): the runner forwards to the published port."""
    with contextlib.suppress(NotFound, APIError):
        container.reload()
        settings = container.attrs.get("NetworkSettings") or {}
        networks = (settings.get("Networks") or {}).values()
        ip = next((n["IPAddress"] for n in networks if n.get("IPAddress")), settings.get("IPAddress"))
        pid = (container.attrs.get("State") or {}).get("Pid")
        if ip and pid:
            path.write_text(json.dumps({"ip": ip, "port": port, "pid": pid}))


def _follow(container: Any) -> int:
    """Copy the container's output to ours until it ends; its exit code."""
    try:
        for chunk in container.logs(stream=True, follow=True):
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        return int(container.wait(timeout=60).get("StatusCode", 1))
    except Exception as exc:
        print(f"[dockyard] lost the container: {type(exc).__name__}: {exc}", flush=True)
        return 1


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    try:
        sys.exit(run(spec))
    except Exception as exc:  # an image gone, a port taken, the engine down: say it in the app log
        print(f"[dockyard] could not run the container: {type(exc).__name__}: {exc}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
