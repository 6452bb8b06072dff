"""What detection found in an app folder: the contract between detect, the planner and the API."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Evidence:
    """Everything detection learned about a folder. Every field defaults to "nothing found"."""

    runtime_family: str | None = None
    framework: str | None = None
    package_manager: str | None = None
    application_shape: str | None = None
    runtime_version: str | None = None
    project_name: str | None = None
    detected_files: tuple[str, ...] = ()
    detected_scripts: tuple[str, ...] = ()
    dockerfile_path: str | None = None
    compose_file_path: str | None = None
    install_command: str | None = None
    build_command: str | None = None
    start_command: str | None = None
    release_command: str | None = None  # once per deployment, after the build, before the start
    publish_directory: str | None = None
    python_requirements: str | None = None
    port: int | None = None
    health_path: str | None = None
    spa: bool = False  # a static single-page app: unknown paths without an extension get index.html
    reasoning: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # What dockyard.yml said, in the resource's field names ({path, startCommand, internalPort, ...};
    # path None: there is none); None: the source was not read (an image).
    entry_profile: dict[str, Any] | None = None

    def to_inspection(self) -> dict[str, Any]:
        """The seed API's `source.inspection` document (camelCase)."""
        return {
            "runtimeFamily": self.runtime_family,
            "framework": self.framework,
            "packageManager": self.package_manager,
            "applicationShape": self.application_shape,
            "runtimeVersion": self.runtime_version,
            "projectName": self.project_name,
            "detectedFiles": list(self.detected_files),
            "detectedScripts": list(self.detected_scripts),
            "dockerfilePath": self.dockerfile_path,
            "composeFilePath": self.compose_file_path,
            "jarPath": None,
        }
