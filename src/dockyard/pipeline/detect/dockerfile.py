"""Dockerfile / compose files: recorded for a container runtime; the host runtime cannot run them."""

from dataclasses import dataclass

from dockyard.pipeline.detect.files import Source

DOCKERFILES = ("Dockerfile", "Containerfile")
COMPOSE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


@dataclass(frozen=True)
class Containers:
    dockerfile: str | None = None
    compose: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f for f in (self.dockerfile, self.compose) if f)


def find_containers(src: Source) -> Containers:
    return Containers(dockerfile=src.first_file(*DOCKERFILES), compose=src.first_file(*COMPOSE_FILES))
