"""Role-tagged links against the local Discord: the role, invites that carry it, own pools."""

from botworker.emulator import defaults as discord
from referrals.invites import hand_out_invite, top_up_pool
from referrals.models import ManagedInvite


def test_a_links_invite_carries_its_own_referral_role(campaign, bob_link, discord_emulator):
    # given a campaign with a role per link, and a visitor of bob's link pressing Join
    assert campaign.referral_roles == "per_link"

    # when the invite is handed out (bob's link has no role yet: it is made on demand)
    handout = hand_out_invite(bob_link, "visitor-1")

    # then bob's link has a role on Discord, and the invite gives exactly that role
    bob_link.refresh_from_db()
    roles = {r["id"]: r["name"] for r in discord_emulator.call(_roles, discord_emulator)}
    assert roles[bob_link.referral_role_id] == "via Bob on YouTube"
    held = {i["code"]: i for i in discord_emulator.invites(discord.GUILD_ID)}
    invite = held[handout.invite.discord_invite_code]
    assert [r["id"] for r in invite["roles"]] == [bob_link.referral_role_id]


def test_a_clicked_links_pool_is_topped_up_with_its_own_invites(
    campaign, bob_link, charlie_link, discord_emulator, settings
):
    # given bob's link was just clicked, charlie's not
    settings.LINK_POOL_SIZE = 2
    hand_out_invite(bob_link, "visitor-1")
    for link in (bob_link, charlie_link):
        link.refresh_from_db()

    # when the campaign's pools are topped up (twice)
    created = top_up_pool(campaign.pk), top_up_pool(campaign.pk)

    # then bob's link holds two ready invites of its own, carrying its role, and nothing more
    assert created[1] == 0
    pooled = ManagedInvite.objects.filter(status="pooled", referral_link=bob_link)
    assert pooled.count() == 2
    held = {i["code"]: i for i in discord_emulator.invites(discord.GUILD_ID)}
    ready = set(pooled.values_list("discord_invite_code", flat=True))
    for code in ready:
        assert [r["id"] for r in held[code]["roles"]] == [bob_link.referral_role_id]
    # and the next visitor of bob's link gets one of them
    assert hand_out_invite(bob_link, "visitor-2").invite.discord_invite_code in ready


def _roles(emu):
    from botworker.emulator import payloads

    guild = emu.world.guilds[discord.GUILD_ID]
    return [payloads.role(r) for r in guild.roles.values()]
