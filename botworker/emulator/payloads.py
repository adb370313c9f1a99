"""Discord JSON shapes for the world's records, shared by REST, the gateway and control API.

Field sets follow Discord's docs and the required properties of Discord's OpenAPI spec (a test
validates REST responses against it); nextcord needs, among others, `avatar` and
`discriminator` on users and `member_count == len(members)` in GUILD_CREATE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import models
from .clock import iso

if TYPE_CHECKING:
    from .state import World


def user(u: models.User) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": u.id,
        "username": u.username,
        "global_name": u.global_name,
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "flags": 0,
        "primary_guild": None,
        "banner": None,
        "accent_color": None,
    }
    if u.bot:
        data["bot"] = True
    return data


def user_pii(u: models.User, *, with_email: bool = True) -> dict[str, Any]:
    data = user(u)
    data.update({"mfa_enabled": False, "locale": "en-US", "premium_type": 0, "verified": True})
    if with_email:
        data["email"] = u.email
    return data


def role(r: models.Role) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": r.id,
        "name": r.name,
        "permissions": str(r.permissions),
        "position": r.position,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": r.hoist,
        "managed": r.managed,
        "mentionable": r.mentionable,
        "icon": None,
        "unicode_emoji": r.unicode_emoji,
        "flags": 0,
    }
    if r.bot_id:
        data["tags"] = {"bot_id": r.bot_id}
    return data


def invite_role(r: models.Role) -> dict[str, Any]:
    """The partial role of an invite's `roles` (Discord's Invite Object; the spec's
    InviteGuildRoleResponse): no permissions, hoist or managed."""
    full = role(r)
    return {
        k: full[k] for k in ("id", "name", "position", "color", "colors", "icon", "unicode_emoji")
    }


def channel(c: models.Channel, world: World) -> dict[str, Any]:
    if c.type == models.DM:
        return {
            "id": c.id,
            "type": c.type,
            "flags": 0,
            "last_message_id": c.last_message_id,
            "recipients": [user(world.users[uid]) for uid in c.recipient_ids],
        }
    return {
        "id": c.id,
        "type": c.type,
        "guild_id": c.guild_id,
        "name": c.name,
        "position": c.position,
        "flags": 0,
        "topic": c.topic,
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "last_message_id": c.last_message_id,
        "permission_overwrites": [
            {"id": o.id, "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.overwrites
        ],
    }


def member(m: models.Member, world: World, *, guild_id: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "user": user(world.users[m.user_id]),
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "roles": list(m.roles),
        "joined_at": iso(m.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": m.flags,
        "pending": m.pending,
        "communication_disabled_until": None,
    }
    if guild_id:
        data["guild_id"] = m.guild_id
    return data


def _guild_common(g: models.Guild) -> dict[str, Any]:
    return {
        "id": g.id,
        "name": g.name,
        "icon": None,
        "splash": None,
        "banner": None,
        "description": None,
        "features": ["VANITY_URL"] if g.vanity_url_code else [],
        "verification_level": 0,
        "vanity_url_code": g.vanity_url_code,
        "nsfw_level": 0,
        "nsfw": False,
        "premium_subscription_count": 0,
    }


def guild(g: models.Guild, world: World, *, with_counts: bool = False) -> dict[str, Any]:
    """The REST guild object (`GET /guilds/{id}`)."""
    data = _guild_common(g)
    data.update(
        {
            "owner_id": g.owner_id,
            "home_header": None,
            "discovery_splash": None,
            "application_id": None,
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "system_channel_id": g.system_channel_id,
            "system_channel_flags": 0,
            "widget_enabled": False,
            "widget_channel_id": None,
            "roles": [role(r) for r in sorted(g.roles.values(), key=lambda r: r.position)],
            "default_message_notifications": 0,
            "mfa_level": 0,
            "explicit_content_filter": 0,
            "max_presences": None,
            "max_members": 500000,
            "max_stage_video_channel_users": 50,
            "max_video_channel_users": 25,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "rules_channel_id": None,
            "safety_alerts_channel_id": None,
            "public_updates_channel_id": None,
            "premium_progress_bar_enabled": False,
            "emojis": [],
            "stickers": [],
            "incidents_data": None,
        }
    )
    if with_counts:
        data["approximate_member_count"] = len(g.members)
        data["approximate_presence_count"] = 0
    return data


def guild_create(g: models.Guild, world: World) -> dict[str, Any]:
    """GUILD_CREATE: the guild plus members, channels and the gateway-only fields."""
    data = guild(g, world)
    members = [member(m, world) for m in g.members.values()]
    bot_member = g.members.get(world.application.bot_user_id)
    data.update(
        {
            "joined_at": iso(bot_member.joined_at) if bot_member else None,
            "large": len(members) > 250,
            "unavailable": False,
            "member_count": len(members),
            "members": members,
            "channels": [channel(world.channels[cid], world) for cid in g.channel_ids],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
    )
    return data


def invite(
    inv: models.Invite, world: World, *, metadata: bool = True, with_counts: bool = False
) -> dict[str, Any]:
    """An invite; `metadata` adds uses/max_uses/max_age/temporary/created_at (lists, create)."""
    g = world.guilds[inv.guild_id]
    ch = world.channels[inv.channel_id]
    data: dict[str, Any] = {
        "type": 0,
        "code": inv.code,
        "guild_id": g.id,
        "guild": _guild_common(g),
        "channel": {"id": ch.id, "type": ch.type, "name": ch.name},
        "expires_at": iso(inv.expires_at),
        "flags": 0,
    }
    if inv.inviter_id:
        data["inviter"] = user(world.users[inv.inviter_id])
    # A role invite lists its roles (those that still exist), wherever an invite is returned.
    roles = [g.roles[r] for r in inv.role_ids if r in g.roles]
    if roles:
        data["roles"] = [invite_role(r) for r in roles]
    if metadata:
        data.update(
            {
                "uses": inv.uses,
                "max_uses": inv.max_uses,
                "max_age": inv.max_age,
                "temporary": inv.temporary,
                "created_at": iso(inv.created_at),
            }
        )
    if with_counts:
        data["approximate_member_count"] = len(g.members)
        data["approximate_presence_count"] = 0
    return data


def invite_event(inv: models.Invite, world: World, *, deleted: bool = False) -> dict[str, Any]:
    """INVITE_CREATE / INVITE_DELETE payloads (gateway shape, not the REST one)."""
    data: dict[str, Any] = {
        "channel_id": inv.channel_id,
        "guild_id": inv.guild_id,
        "code": inv.code,
    }
    if deleted:
        return data
    data.update(
        {
            "created_at": iso(inv.created_at),
            "max_age": inv.max_age,
            "max_uses": inv.max_uses,
            "temporary": inv.temporary,
            "uses": inv.uses,
            "expires_at": iso(inv.expires_at),
        }
    )
    if inv.inviter_id:
        data["inviter"] = user(world.users[inv.inviter_id])
    return data


def _numbered(components: list[dict[str, Any]], counter: list[int]) -> list[dict[str, Any]]:
    """Discord gives every component a numeric `id` (unique within the message) when absent."""
    out = []
    for component in components:
        copy = dict(component)
        counter[0] += 1
        copy.setdefault("id", counter[0])
        if "components" in copy:
            copy["components"] = _numbered(copy["components"], counter)
        out.append(copy)
    return out


def message(msg: models.Message, world: World) -> dict[str, Any]:
    ch = world.channels.get(msg.channel_id)
    data: dict[str, Any] = {
        "id": msg.id,
        "type": msg.type,
        "channel_id": msg.channel_id,
        "author": user(world.users[msg.author_id]),
        "content": msg.content,
        "timestamp": iso(msg.timestamp),
        "edited_timestamp": iso(msg.edited_timestamp),
        "tts": msg.tts,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": list(msg.embeds),
        "pinned": False,
        "flags": msg.flags,
        "components": _numbered(msg.components, [0]),
    }
    if ch is not None and ch.guild_id:
        data["guild_id"] = ch.guild_id
    if msg.webhook_id:
        data["webhook_id"] = msg.webhook_id
    if msg.application_id:
        data["application_id"] = msg.application_id
    return data


def application(world: World) -> dict[str, Any]:
    app = world.application
    return {
        "id": app.id,
        "name": app.name,
        "icon": None,
        "description": "",
        "type": None,
        "bot": user(world.users[app.bot_user_id]),
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": world.application_flags(),
        "flags_new": str(world.application_flags()),
        "redirect_uris": list(app.redirect_uris or []),
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "owner": user(world.users[app.owner_id]),
        "approximate_guild_count": len(world.guilds),
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": len(world.access_tokens),
        "explicit_content_filter": 0,
        "team": None,
        "eligible_oauth2_scopes": ["bot", "applications.commands", "identify", "guilds.join"],
        "summary": "",
        "rpc_origins": [],
    }
