"""Who is who: provider address rules, names, merges and the owner's other addresses."""

from __future__ import annotations

import pytest

from keepwarm.services.identity.addresses import identity_key, normalize_name


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("john.smith+news@gmail.com", "johnsmith@gmail.com"),
        ("johnsmith@googlemail.com", "johnsmith@gmail.com"),
        ("john.smith+x@outlook.com", "john.smith@outlook.com"),
        # On other domains dots and plus signs may name other mailboxes
        ("john.smith@enron.com", "john.smith@enron.com"),
        ("john+smith@example.com", "john+smith@example.com"),
    ],
)
def test_identity_key_applies_only_the_providers_own_rules(address: str, key: str) -> None:
    assert identity_key(address) == key


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("Dean, Clint (E-mail)", "clint dean"),
        ("Clint Dean (E-mail)", "clint dean"),
        ("Craig J. Dean", "craig j dean"),
        ("José Müller", "jose muller"),
        ("jane@example.com", None),
        ("  ", None),
    ],
)
def test_normalize_name(name: str, normal: str | None) -> None:
    assert normalize_name(name) == normal
