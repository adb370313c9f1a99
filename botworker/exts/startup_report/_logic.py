"""What the start-up report says about one guild, from plain data (no nextcord, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field

from botworker._queries import CampaignInfo
from referrals.roles import GUILD_ROLE_LIMIT

# Guild-wide permissions the bot needs, in report order, with what a missing one breaks.
NEEDED = {
    "view_channel": ("View Channel", "the bot cannot see channels to welcome members in"),
    "send_messages": ("Send Messages", "welcome messages cannot be posted (members get a DM)"),
    "manage_guild": (
        "Manage Guild",
        "the invite list cannot be read: every join is recorded as unknown, none attributed",
    ),
    "create_instant_invite": (
        "Create Instant Invite",
        "managed invites cannot be created: visitors get the untracked fallback invite",
    ),
}
MANAGE_ROLES = ("Manage Roles", "campaign roles cannot be assigned on conversion")
REFERRAL_ROLES_NEED = "Manage Roles (referral roles: invites cannot carry a link's role)"


@dataclass(frozen=True)
class RoleInfo:
    id: str
    name: str
    position: int


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # one line per problem, named

    def text(self) -> str:
        return "\n".join(self.lines + [f"  MISSING {m}" for m in self.missing])


def build_report(
    *,
    guild_name: str,
    guild_id: str,
    campaigns: list[CampaignInfo],
    permissions: dict[str, bool],
    bot_top_role: RoleInfo,
    roles: dict[str, RoleInfo],
    referral_role_ids: tuple[str, ...] = (),
    referral_roles_wanted: bool = False,
    role_headroom: int = 0,
) -> Report:
    """The lines for one guild: identity, live campaigns, permissions held and lacking.

    `permissions` maps nextcord permission names to whether the bot has them guild-wide;
    `roles` are the guild's roles by id (a campaign role absent from it is reported).
    `referral_role_ids` are the links' referral roles; with `referral_roles_wanted` (a live
    campaign uses them) one line says whether they work: Manage Roles, every referral role
    below the bot's top role, room under Discord's 250 roles less `role_headroom`.
    """
    report = Report([f"guild {guild_name!r} id={guild_id}"])
    if campaigns:
        for c in campaigns:
            report.lines.append(f"  campaign {c.name!r} id={c.id} invite_channel={c.channel_id}")
    else:
        report.lines.append("  no live campaign configured for this guild")
    wanted = dict(NEEDED)
    role_ids = sorted({r for c in campaigns for r in c.role_ids})
    if role_ids:
        wanted["manage_roles"] = MANAGE_ROLES
    held = [label for name, (label, _) in wanted.items() if permissions.get(name)]
    report.lines.append("  has: " + (", ".join(held) or "none of the permissions it needs"))
    for name, (label, breaks) in wanted.items():
        if not permissions.get(name):
            report.missing.append(f"{label}: {breaks}")
    for role_id in role_ids:
        role = roles.get(role_id)
        if role is None:
            report.missing.append(f"role {role_id}: not in this guild, it cannot be assigned")
        elif role.position >= bot_top_role.position:
            report.missing.append(
                f"role position: {role.name!r} ({role.id}, position {role.position}) is not "
                f"below the bot's top role {bot_top_role.name!r} (position "
                f"{bot_top_role.position}): it cannot be assigned on conversion"
            )
    if referral_roles_wanted:
        _referral_roles(report, permissions, bot_top_role, roles, referral_role_ids, role_headroom)
    return report


def _referral_roles(
    report: Report,
    permissions: dict[str, bool],
    bot_top_role: RoleInfo,
    roles: dict[str, RoleInfo],
    referral_role_ids: tuple[str, ...],
    headroom: int,
) -> None:
    problems = []
    if not permissions.get("manage_roles"):
        problems.append(REFERRAL_ROLES_NEED)
    too_high = [
        roles[r].name
        for r in referral_role_ids
        if r in roles and roles[r].position >= bot_top_role.position
    ]
    if too_high:
        problems.append(
            f"referral roles above the bot's top role {bot_top_role.name!r}: "
            f"{', '.join(sorted(too_high))} (move the bot's role up)"
        )
    room = GUILD_ROLE_LIMIT - headroom - len(roles)
    if room <= 0:
        problems.append(
            f"no room for new referral roles: {len(roles)} of {GUILD_ROLE_LIMIT} roles used, "
            f"{headroom} kept free (REFERRAL_ROLE_HEADROOM); new links use the invite diff only"
        )
    if problems:
        report.missing.extend(problems)
    else:
        report.lines.append(
            f"  referral roles: working ({len(referral_role_ids)} link role(s), room for "
            f"{room} more)"
        )
