"""How a deployment phase fails: shared by the executor and the steps it composes."""


class DeployFailure(Exception):
    def __init__(self, phase: str, code: str, message: str, next_action: str | None = None) -> None:
        super().__init__(message)
        self.phase, self.code, self.message, self.next_action = phase, code, message, next_action

    def record(self) -> dict[str, str | None]:
        """As a deployment's `failure` field."""
        failure = {"phase": self.phase, "code": self.code, "message": self.message}
        return {**failure, "nextAction": self.next_action}
