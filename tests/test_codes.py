"""Referral codes are unguessable, URL-safe and short enough for every place they travel."""

import base64
import re
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from analytics.models import ReferralEvent
from referrals.codes import CODE_MAX_LENGTH, generate_code, is_valid_code
from referrals.models import ReferralLink
from tests.test_classify import WINDOWS_CHROME


@given(st.text(max_size=40))
def test_it_puts_80_random_bits_after_the_prefix_of_every_code(title):
    token = generate_code(title).rsplit("-", 1)[-1]
    # The token decodes to the random bytes it was made from: 10 bytes, 80 bits.
    assert len(base64.b32decode(token.upper())) == 10


def test_it_gives_links_with_one_title_their_own_codes_and_pages(campaign, bob, client):
    # given three links with the same title
    links = [
        ReferralLink.objects.create(campaign=campaign, influencer=bob, title="Summer drop")
        for _ in range(3)
    ]
    # then each has its own code, and each code's page records its click on its own link
    assert len({link.referral_code for link in links}) == 3
    for link in links:
        response = client.get(f"/r/{link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
        assert response.status_code == 200
    assert sorted(ReferralEvent.objects.values_list("link_id", flat=True)) == sorted(
        link.pk for link in links
    )


def test_it_answers_a_guessed_code_with_not_found_and_records_nothing(bob_link, client):
    # given a real code, when someone tries the same prefix with other random characters
    prefix = bob_link.referral_code.rsplit("-", 1)[0]
    guess = f"{prefix}-{'a' * 16}"
    response = client.get(f"/r/{guess}", HTTP_USER_AGENT=WINDOWS_CHROME)
    # then there is no such page and nothing was counted
    assert response.status_code == 404
    assert ReferralEvent.objects.count() == 0


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
