"""Staff logins (managers and influencers) lock after repeated wrong passwords; an admin lifts
the lockout."""

from axes.models import AccessAttempt
from django.test import Client

from campaigns.scoping import make_influencer

HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.7"


def login(client, username, password, ip=HOME):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_five_wrong_passwords_lock_the_login_until_an_admin_lifts_it(client, alice, bob):
    # given an influencer whose password someone is guessing
    make_influencer(bob)
    for _ in range(4):
        assert login(client, "bob", "guess").status_code == 200  # the form again

    # when the fifth guess fails, then even the right password is refused
    assert login(client, "bob", "guess").status_code == 429
    locked = login(client, "bob", "bob-pw-123")
    assert locked.status_code == 429
    assert "too many login attempts" in locked.content.decode()
    # only from that network, which is all the lockout table keeps of the address
    assert AccessAttempt.objects.get(username="bob").ip_address == "203.0.113.0"
    assert login(Client(), "bob", "bob-pw-123", ip=ELSEWHERE).status_code == 302

    # when alice deletes the lockout in the admin
    admin = Client()
    admin.force_login(alice)
    attempt = AccessAttempt.objects.get(username="bob")
    lifted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert lifted.status_code == 302

    # then bob signs in again
    assert login(client, "bob", "bob-pw-123").status_code == 302
    assert not AccessAttempt.objects.filter(username="bob").exists()


def test_a_lockout_log_line_names_the_network_not_the_address(client, bob, caplog):
    make_influencer(bob)
    for _ in range(5):
        login(client, "bob", "guess")

    assert "network=203.0.113.0" in caplog.text
    assert HOME not in caplog.text
