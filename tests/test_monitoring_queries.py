"""The seed specification's monitoring SQL runs unchanged against our tables."""

from django.db import connection

from analytics.models import ReferralEvent
from referrals.models import ManagedInvite

# Copied verbatim from the seed's "Monitoring Queries" section.
ATTRIBUTION_CHAIN = """
SELECT
  rl.referral_code,
  rl.title,
  dil.discord_invite_code,
  ra.event_type,
  ra.discord_user_id,
  ra.created_at
FROM referral_links rl
JOIN discord_invite_links dil ON rl.id = dil.referral_link_id
LEFT JOIN referral_analytics ra ON rl.id = ra.link_id
WHERE rl.referral_code = 'your-referral-code'
ORDER BY ra.created_at;
"""

INVITES_PER_GUILD = """
SELECT
  guild_id,
  COUNT(*) as invite_count,
  MAX(created_at) as latest_invite
FROM discord_invite_links
GROUP BY guild_id;
"""


def make_invite(link, code, guild_id=None):
    return ManagedInvite.objects.create(
        campaign=link.campaign,
        referral_link=link,
        discord_invite_code=code,
        discord_invite_url=f"https://discord.gg/{code}",
        guild_id=guild_id or link.campaign.guild_id,
        channel_id=link.campaign.channel_id,
        status=ManagedInvite.Status.USED,
    )


def run(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_attribution_chain_query_follows_one_code_to_its_member(bob_link, charlie_link):
    # Given bob's link with a used invite, a click and a join; and charlie's unrelated activity
    make_invite(bob_link, "BobInv1")
    make_invite(charlie_link, "CharlieInv1")
    ReferralEvent.objects.create(link=bob_link, event_type="click")
    ReferralEvent.objects.create(
        link=bob_link, event_type="discord_join", discord_user_id="1300000000000009999"
    )
    ReferralEvent.objects.create(link=charlie_link, event_type="click")

    # When the seed's query runs for bob's code
    rows = run(ATTRIBUTION_CHAIN.replace("your-referral-code", bob_link.referral_code))

    # Then it shows bob's invite with his two events, in order, and nothing of charlie's
    assert [(r[0], r[1], r[2], r[3], r[4] or "") for r in rows] == [
        (bob_link.referral_code, "Bob on YouTube", "BobInv1", "click", ""),
        (
            bob_link.referral_code,
            "Bob on YouTube",
            "BobInv1",
            "discord_join",
            "1300000000000009999",
        ),
    ]


def test_the_invites_per_guild_query_counts_each_guild(bob_link, charlie_link):
    make_invite(bob_link, "A1")
    make_invite(bob_link, "A2")
    make_invite(charlie_link, "B1", guild_id="1300000000000000999")

    rows = sorted(run(INVITES_PER_GUILD))

    assert [(guild, count) for guild, count, _ in rows] == [
        (bob_link.campaign.guild_id, 2),
        ("1300000000000000999", 1),
    ]
    assert all(latest is not None for _, _, latest in rows)
