"""Referral codes are unguessable, URL-safe and short enough for every place they travel."""

import math
import re
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from referrals.codes import CODE_MAX_LENGTH, RANDOM_LENGTH, generate_code, is_valid_code


def test_it_generates_unique_codes():
    codes = {generate_code("Summer drop") for _ in range(20_000)}
    assert len(codes) == 20_000


def test_it_puts_at_least_64_random_bits_in_every_code():
    token = generate_code("").rsplit("-", 1)[-1]
    # base32: 5 bits per character
    assert len(token) == RANDOM_LENGTH
    assert RANDOM_LENGTH * math.log2(32) >= 64


def test_it_prefixes_the_code_with_a_readable_title():
    assert re.match(r"^summer-drop-[a-z2-7]{16}$", generate_code("Summer Drop!"))


@given(st.text(max_size=300))
def test_codes_are_url_safe_and_bounded_for_any_title(title):
    code = generate_code(title)
    assert quote(code, safe="") == code
    assert len(code) <= CODE_MAX_LENGTH
    assert is_valid_code(code)


def test_it_recognises_impossible_codes_without_the_database():
    assert not is_valid_code("")
    assert not is_valid_code("a" * 65)
    assert not is_valid_code("bad code")
    assert not is_valid_code("../etc/passwd")
    assert not is_valid_code("-leading")
    assert is_valid_code("summer-drop-k3x9abcdefghijkl")
