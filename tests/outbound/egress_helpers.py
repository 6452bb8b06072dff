"""Public DNS as a table, for outbound tests."""


class FakeDns:
    """Public DNS as a table; `then` is what a second lookup answers (a rebinding attacker's DNS)."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.then: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def resolve(self, name: str) -> list[str]:
        self.asked.append(name)
        if name in self.then and self.asked.count(name) > 1:
            return list(self.then[name])
        return list(self.records.get(name, []))
