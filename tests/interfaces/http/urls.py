"""Concrete URLs for catalog operations: fresh ids of the kind each placeholder takes (from the input
field's IdKind), or of a deliberately wrong kind."""

from dockyard.domain.ids import new_id
from dockyard.operations.catalog import Operation
from dockyard.operations.common import IdKind


def path_kinds(op: Operation) -> dict[str, str | None]:
    """Each path placeholder and the id kind it takes (None: not an id)."""
    fields, _ = op.field_split()
    return {
        (f.alias or n): next((m.kind for m in f.metadata if isinstance(m, IdKind)), None)
        for n, f in fields.items()
    }


def url_of(op: Operation, wrong_kind: bool = False) -> str:
    """The operation's URL under its family's prefix; a placeholder that is no id gets `x`."""
    path = op.path
    for name, kind in path_kinds(op).items():
        if kind and wrong_kind:
            kind = "deployment" if kind != "deployment" else "project"
        path = path.replace("{" + name + "}", new_id(kind) if kind else "x")
    return op.family.prefix + path
