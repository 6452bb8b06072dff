"""Generated access hostnames and the rules of a route's hostname and path prefix. Pure: a policy, a
resource and the hostnames already taken in, a name out.

Loopback servers get `<slug>.localhost`; a server with a public IPv4 gets `<slug>-<suffix>.<ip>.sslip.io`
(which resolves to that IP with no DNS setup); a custom template like `{slug}.apps.example.com` is
filled in. When the plain name is taken by another resource, a short suffix from the resource id
keeps names unique.
"""

import ipaddress
import re
from collections.abc import Collection
from dataclasses import dataclass

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TEMPLATE_FIELDS = ("{slug}", "{suffix}")
# What the edge pastes into a config statement (nginx `location`, Caddy path matcher) unquoted: nothing
# that could end the statement or open another (; { } quotes, backslash, spaces).
PATH_PREFIX = re.compile(r"^/[A-Za-z0-9._~%/-]*$")
PATH_PREFIX_MAX = 200  # the stored column's length


@dataclass(frozen=True)
class Policy:
    mode: str = "provider"  # "provider" | "custom-template" | "disabled"
    provider_key: str | None = None  # "localhost" | "sslip"; None: chosen by the server's address
    template_ref: str | None = None  # "{slug}.apps.example.com"


def valid_hostname(name: str) -> bool:
    if not name or len(name) > 253 or name != name.lower() or name.endswith("."):
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(LABEL.match(label) for label in labels)


def hostname_error(name: str) -> str | None:
    """Why `name` cannot be a route's hostname, or None."""
    if name != name.strip().lower():
        return "use lower case with no spaces"
    if not valid_hostname(name):
        return (
            "expected a DNS name like app.example.com: labels of a-z, 0-9 and '-', at most 63 characters each"
        )
    return None


def path_prefix_error(prefix: str) -> str | None:
    """Why `prefix` cannot be a route's path prefix, or None. The door (API models) and the edge's renderer
    apply this one rule, so what the API accepts the edge can always serve."""
    if len(prefix) > PATH_PREFIX_MAX or not PATH_PREFIX.fullmatch(prefix):  # `$` lets a final "\n" by
        return (
            f"expected a path like / or /app: starts with '/', then at most {PATH_PREFIX_MAX - 1} of "
            "A-Z a-z 0-9 . _ ~ % / -"
        )
    return None


def checked_path_prefix(prefix: str) -> str:
    """`prefix`, or ValueError with `path_prefix_error` (for pydantic validators)."""
    problem = path_prefix_error(prefix)
    if problem:
        raise ValueError(problem)
    return prefix


def template_error(template: str) -> str | None:
    if "{slug}" not in template:
        return "the template must contain {slug}"
    sample = template.replace("{slug}", "app").replace("{suffix}", "abc123")
    return hostname_error(sample)


def provider_for(server_host: str) -> str:
    """`localhost` for a loopback or private server, `sslip` for a public IPv4."""
    try:
        address = ipaddress.ip_address(server_host)
    except ValueError:
        return "localhost" if server_host in ("localhost", "") else "sslip"
    if address.version == 4 and address.is_global:
        return "sslip"
    return "localhost"


def generated_hostname(
    policy: Policy, slug: str, resource_id: str, server_host: str, taken: Collection[str]
) -> str | None:
    """The generated hostname for a resource, or None when the policy disables generated routes."""
    if policy.mode == "disabled":
        return None
    suffix = resource_id.rsplit("_", 1)[-1][-6:].lower()
    if policy.mode == "custom-template" and policy.template_ref:
        plain = policy.template_ref.replace("{slug}", slug).replace("{suffix}", suffix)
        unique = policy.template_ref.replace("{slug}", f"{slug}-{suffix}").replace("{suffix}", suffix)
    elif (policy.provider_key or provider_for(server_host)) == "sslip":
        plain = unique = f"{slug}-{suffix}.{server_host}.sslip.io"
    else:
        plain, unique = f"{slug}.localhost", f"{slug}-{suffix}.localhost"
    return plain if plain not in taken else unique
