"""Masking secret values in text."""

from dockyard.secrets.masking import Masker


def test_values_are_masked_wherever_they_appear_longest_first() -> None:
    mask = Masker(["hunter22", "hunter22-extended"])
    assert mask("a hunter22-extended b hunter22 c") == "a **** b **** c"


def test_multi_line_values_are_masked_line_by_line() -> None:
    mask = Masker(["-----BEGIN-----\nMIIBsecretline\n-----END-----"])
    assert mask("key line: MIIBsecretline") == "key line: ****"


def test_nothing_to_mask_leaves_text_alone() -> None:
    assert Masker([])("hello") == "hello" and not Masker(["ab"])
