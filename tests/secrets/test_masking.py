"""Masking secret values in text: examples, then properties over random secrets, text around them,
cuts (a reader resuming inside a line, a line cut off unfinished) and encodings."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dockyard.secrets.masking import MIN_CUT_BYTES, Masker


def test_values_are_masked_wherever_they_appear_longest_first() -> None:
    mask = Masker(["hunter22", "hunter22-extended"])
    assert mask("a hunter22-extended b hunter22 c") == "a **** b **** c"


def test_multi_line_values_are_masked_line_by_line() -> None:
    mask = Masker(["-----BEGIN-----\nMIIBsecretline\n-----END-----"])
    assert mask("key line: MIIBsecretline") == "key line: ****"


def test_nothing_to_mask_leaves_text_alone() -> None:
    assert Masker([])("hello") == "hello" and not Masker(["ab"])


def test_overlapping_secrets_are_hidden_together() -> None:
    mask = Masker(["aaaa1234", "1234bbbbbbbb"])
    assert mask("x aaaa1234bbbbbbbb y") == "x **** y"
    assert mask.masked("no secret here") == ("no secret here", False)


def test_a_line_is_masked_whole_then_shown_from_the_cut() -> None:
    mask = Masker(["s3cr3t-value"])
    data = b"token=s3cr3t-value ok"
    assert mask.line(data, len("token=s3c")) == ("**** ok", True)
    assert mask.line(data, len("token=s3cr3t-value")) == (" ok", False)
    assert mask.line(b"token=s3cr", open_end=True) == ("token=****", True)
    assert mask.line(b"token=s3c", open_end=True) == ("token=s3c", False), "3 bytes at a cut still show"
    assert mask.line(b"3t-value ok", open_start=True) == ("**** ok", True)


PLAIN = "ab =:é日🙂\r\n\t"
SECRETISH = "XYZ9ü€𝄞-"
secret_values = st.text(SECRETISH, min_size=4, max_size=20)
plain_text = st.text(PLAIN, max_size=10)


def longest_secret_run(text: str) -> int:
    runs = "".join(c if c in SECRETISH else " " for c in text).split()
    return max((len(run.encode()) for run in runs), default=0)


def every_occurrence_hidden(text: str, secrets: list[str]) -> str:
    """The slow, obvious way: every character of every occurrence hidden, each run of them one ****."""
    hidden = [False] * len(text)
    for secret in secrets:
        for i in range(len(text)):
            if text.startswith(secret, i):
                hidden[i : i + len(secret)] = [True] * len(secret)
    out = [c if not hidden[i] else "" if i and hidden[i - 1] else "****" for i, c in enumerate(text)]
    return "".join(out)


@settings(max_examples=300)
@given(
    values=st.lists(st.text("XY" + PLAIN, min_size=4, max_size=12), min_size=1, max_size=3),
    pieces=st.lists(st.tuples(st.text("XY" + PLAIN, max_size=8), st.integers(0, 2)), max_size=6),
)
def test_no_secret_survives_masking_whatever_surrounds_it(
    values: list[str], pieces: list[tuple[str, int]]
) -> None:
    """Also secrets that overlap each other or the text around them (a small alphabet makes that likely)."""
    secrets = [v for v in (v.strip() for v in values) if len(v) >= 4 and "\n" not in v and "\r" not in v]
    mask = Masker(secrets)
    text = "".join(plain + (secrets[i % len(secrets)] if secrets else "") for plain, i in pieces)
    masked = mask(text)
    assert all(s not in masked for s in secrets), masked
    assert masked == every_occurrence_hidden(text, secrets)
    assert mask.masked(text)[1] == any(s in text for s in secrets)
    data = text.encode()
    for cut in range(len(data) + 1):
        shown, _ = mask.line(data, cut)
        assert all(s not in shown for s in secrets), (cut, shown)


@settings(max_examples=300)
@given(secret=secret_values, before=plain_text, after=plain_text, data=st.data())
def test_no_part_of_a_secret_shows_at_a_cut(
    secret: str, before: str, after: str, data: st.DataObject
) -> None:
    mask = Masker([secret])
    line = f"{before}{secret}{after}".encode()
    cut = data.draw(st.integers(min_value=0, max_value=len(line)), label="cut")
    shown, masked = mask.line(line, cut)
    assert longest_secret_run(shown) == 0 and masked == (cut < len(line) - len(after.encode()))
    # the line cut off anywhere (unfinished, or read in pieces): its start and its end are cuts
    start = data.draw(st.integers(min_value=0, max_value=len(line)), label="start")
    end = data.draw(st.integers(min_value=start, max_value=len(line)), label="end")
    piece, _ = mask.line(line[start:end], open_start=start > 0, open_end=end < len(line))
    assert secret not in piece
    secret_start = len(before.encode())
    if not (start > secret_start and end < secret_start + len(secret.encode())):  # not its middle only
        assert longest_secret_run(piece) < MIN_CUT_BYTES, piece
