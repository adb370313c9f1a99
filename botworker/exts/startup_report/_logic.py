"""What the start-up report says about one guild, from plain data (no nextcord, no ORM)."""

from __future__ import annotations

from dataclasses import dataclass, field

from botworker._queries import CampaignInfo

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
) -> Report:
    """The lines for one guild: identity, live campaigns, permissions held and lacking.

    `permissions` maps nextcord permission names to whether the bot has them guild-wide;
    `roles` are the guild's roles by id (a campaign role absent from it is reported).
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
    return report
