"""What the bot reads after each invite fetch: our invites (code -> link, revoked codes) and
the guild's referral roles (role id -> link). Read from this app's tables, for
`botworker.attribution` to decide with.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from referrals.models import ManagedInvite, ReferralLink

Status = ManagedInvite.Status


@dataclass(frozen=True)
class ReferralRole:
    link_id: str
    campaign_id: str
    keep: bool  # the campaign keeps the role on the member as a "came via" badge


@dataclass(frozen=True)
class AttributionInputs:
    managed: dict[str, str | None]  # managed invite code -> link id (None while pooled)
    revoked: frozenset[str]  # codes we revoked ourselves
    roles: dict[str, ReferralRole]  # referral role id -> its link

    @property
    def role_links(self) -> dict[str, str]:
        return {role_id: role.link_id for role_id, role in self.roles.items()}


def attribution_inputs(guild_id: str, codes: Iterable[str] | None = None) -> AttributionInputs:
    """What the bot reads after each invite fetch: our invites and the referral roles.

    `codes`: only these invites (the ones the window can show: its baseline, the fetched list
    and the carried uses), so a batch reads at most Discord's invite cap of rows, however many
    invites the guild's campaigns made over their lives; None: all of the guild's."""
    managed: dict[str, str | None] = {}
    revoked: set[str] = set()
    invites = ManagedInvite.objects.filter(guild_id=guild_id)
    if codes is not None:
        invites = invites.filter(discord_invite_code__in=sorted(set(codes)))
    rows = invites.values_list("discord_invite_code", "referral_link_id", "status")
    for code, link_id, status in rows:
        if status == Status.REVOKED:
            revoked.add(code)
        # A pooled invite was given to nobody, even one created for a link's own pool.
        managed[code] = str(link_id) if link_id and status != Status.POOLED else None
    return AttributionInputs(managed, frozenset(revoked), referral_roles(guild_id))


def referral_roles(guild_id: str) -> dict[str, ReferralRole]:
    """The guild's referral roles: role id -> link (see Campaign.referral_roles)."""
    rows = (
        ReferralLink.objects.filter(campaign__guild_id=guild_id)
        .exclude(referral_role_id="")
        .values_list("referral_role_id", "pk", "campaign_id", "campaign__keep_referral_role")
    )
    return {
        role_id: ReferralRole(str(link_id), str(campaign_id), keep)
        for role_id, link_id, campaign_id, keep in rows
    }
