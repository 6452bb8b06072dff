"""The egress policy: which addresses the control plane may connect to on a user's behalf (server
connectivity tests, remote MCP servers, anything a user names by URL or host). Pure: settings and the
control plane's own listeners in, a decision per (address, port) out; `outbound.py` resolves names and
connects only to addresses this module allowed.

The rules, first match wins:
1. the control plane's own listener (host:port; on 0.0.0.0 or :: any local address at that port) is
   always refused: a request on a user's behalf must not call the API with the control plane's network
   position;
2. an address in DOCKYARD_EGRESS_DENY is refused;
3. with an allow list (DOCKYARD_EGRESS_ALLOW, and DOCKYARD_PROBE_ALLOW, its older name, merged), only
   its ranges are allowed;
4. link-local and cloud metadata addresses, loopback and "this host" are refused unless an allow entry
   lies inside the denied range (127.0.0.0/8 lifts loopback; 0.0.0.0/0 does not, and 169.254.0.0/16
   does not lift the metadata address 169.254.169.254, which must be listed on its own).
"""

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "DOCKYARD_EGRESS_ALLOW"
DENY_SETTING = "DOCKYARD_EGRESS_DENY"
PROBE_ALLOW_SETTING = "DOCKYARD_PROBE_ALLOW"  # the older name of the allow list, still read
CODE = "egress_denied"

_DEFAULT_DENY = (
    ("169.254.169.254/32", "the cloud metadata service (AWS, GCP, Azure, OpenStack)"),
    ("fd00:ec2::254/128", "EC2's IPv6 metadata service"),
    ("100.100.100.200/32", "Alibaba Cloud's metadata service"),
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "IPv6 link-local"),
    ("127.0.0.0/8", "loopback (services of the control plane's machine)"),
    ("::1/128", "loopback (services of the control plane's machine)"),
    ("0.0.0.0/8", "'this host' (connecting to it reaches the control plane's machine)"),
    ("::/128", "the unspecified address (connecting to it reaches the control plane's machine)"),
)
DEFAULT_DENY: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(net), why) for net, why in _DEFAULT_DENY
)
UNSPECIFIED = (ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::"))
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class Refusal:
    """Why a connection to `address`:`port` may not be made, and which setting would change that."""

    address: str
    port: int
    reason: str
    setting: str | None  # None: no setting allows it (the control plane's own listener)
    code: str = CODE

    @property
    def message(self) -> str:
        return f"Outbound connections to {self.address} (port {self.port}) are refused: {self.reason}. " + (
            self.next_action
        )

    @property
    def next_action(self) -> str:
        if self.setting is None:
            return "Use the API directly instead of asking the control plane to call itself."
        if self.setting == DENY_SETTING:
            return f"Remove the range from {DENY_SETTING} if this destination is meant to be reached."
        return (
            f"If this destination is meant to be reached, add it to {self.setting} (e.g. {self.address}/32)."
        )


@dataclass(frozen=True)
class EgressPolicy:
    allow: tuple[Network, ...] = ()  # empty: anything not denied
    allow_settings: tuple[str, ...] = ()  # the settings the allow list came from (for messages)
    deny: tuple[Network, ...] = ()
    own: tuple[tuple[Address, int], ...] = ()  # the control plane's listeners

    def needs_locality(self, port: int) -> bool:
        """Whether deciding on `port` needs to know if the address is one of this machine's (a listener
        on 0.0.0.0 or ::)."""
        return any(address in UNSPECIFIED and own_port == port for address, own_port in self.own)

    def refusal(self, address: str | Address, port: int, *, local: bool = False) -> Refusal | None:
        """None when a connection to `address`:`port` is allowed. `local`: the address is one of this
        machine's own (only asked for when `needs_locality`). ValueError when `address` is a name."""
        ip = normalized(address)
        shown = str(ip)
        for own_address, own_port in self.own:
            if port == own_port and (
                ip == own_address or (own_address in UNSPECIFIED and (local or _here(ip)))
            ):
                return Refusal(shown, port, "that is the control plane's own API", None)
        denied = next((net for net in self.deny if ip in net), None)
        if denied is not None:
            return Refusal(shown, port, f"{DENY_SETTING} lists {denied}", DENY_SETTING)
        if self.allow and not any(ip in net for net in self.allow):
            names = " / ".join(self.allow_settings)
            listed = ", ".join(str(n) for n in self.allow)
            return Refusal(shown, port, f"it is outside {names} ({listed})", self.allow_settings[0])
        for net, why in DEFAULT_DENY:
            if ip in net and not any(ip in allowed and _within(allowed, net) for allowed in self.allow):
                return Refusal(shown, port, f"it is {why}, denied by default", ALLOW_SETTING)
        return None


def normalized(address: str | Address) -> Address:
    """The address, an IPv4-mapped IPv6 one (::ffff:a.b.c.d) as the IPv4 address it reaches."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _within(inner: Network, outer: Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _here(ip: Address) -> bool:
    """Loopback and unspecified addresses reach this machine whatever it is called."""
    return ip.is_loopback or ip.is_unspecified


def parse_networks(raw: str, setting: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (a bare address is its /32 or /128); ValueError naming `setting`."""
    out = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part))
        except ValueError as exc:
            raise ValueError(f"{setting}: {part!r} is not a CIDR range like 10.0.0.0/8 ({exc})") from None
    return tuple(out)


def own_endpoints(listeners: Iterable[tuple[str, int]]) -> tuple[tuple[Address, int], ...]:
    """The control plane's listeners as (address, port); a host `localhost` stands for both loopbacks,
    other names are skipped (they cannot be compared with an address without a lookup)."""
    out: list[tuple[Address, int]] = []
    for host, port in listeners:
        host = host.strip("[]")
        if host.lower() in LOOPBACK_NAMES:
            out += [(ipaddress.ip_address("127.0.0.1"), port), (ipaddress.ip_address("::1"), port)]
            continue
        try:
            out.append((normalized(host), port))
        except ValueError:
            continue
    return tuple(dict.fromkeys(out))


def policy_from(env: Mapping[str, str], listeners: Iterable[tuple[str, int]]) -> EgressPolicy:
    """The policy the settings in `env` describe, for a control plane listening on `listeners`."""
    allow: tuple[Network, ...] = ()
    settings: list[str] = []
    for setting in (ALLOW_SETTING, PROBE_ALLOW_SETTING):
        found = parse_networks(env.get(setting, ""), setting)
        if found:
            allow += found
            settings.append(setting)
    deny = parse_networks(env.get(DENY_SETTING, ""), DENY_SETTING)
    return EgressPolicy(tuple(dict.fromkeys(allow)), tuple(settings), deny, own_endpoints(listeners))
