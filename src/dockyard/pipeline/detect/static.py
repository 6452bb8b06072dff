"""Static sites: an index.html at the root, in public/, or in a committed build output folder."""

from dockyard.pipeline.detect.evidence import Evidence
from dockyard.pipeline.detect.files import Source

# In the order a user would expect them to be served.
PUBLISH_DIRS = (".", "public", "dist", "build", "out", "_site")


def detect_static(src: Source) -> Evidence | None:
    for folder in PUBLISH_DIRS:
        index = "index.html" if folder == "." else f"{folder}/index.html"
        if src.is_file(index):
            where = "the folder root" if folder == "." else f"{folder}/"
            return Evidence(
                runtime_family="static",
                application_shape="static",
                detected_files=(index,),
                publish_directory=folder,
                reasoning=(f"{index} found: serving {where} as a static site",),
            )
    return None
