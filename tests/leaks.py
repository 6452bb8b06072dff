"""Looking for a secret in what the platform showed: whole, or any run of its characters long enough
to give part of it away."""

PIECE = 4  # characters of a secret that count as showing part of it (masking hides this much at a cut)


def parts_shown(secret: str, text: str) -> list[str]:
    """The pieces of `secret` (PIECE characters each) that appear in `text`."""
    return [secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1) if secret[i : i + PIECE] in text]
