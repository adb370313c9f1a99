"""Managed invites: the pools, handing one out, and keeping Discord tidy.

A visitor never waits on Discord when a pool has an invite: assignment is one row claimed in
the database. Only an empty pool makes the visitor wait, for at most INVITE_POOL_WAIT_SECONDS,
and when Discord cannot help the visitor still gets the campaign's fallback invite.

Two kinds of pool. Links without a referral role share the campaign's pool (invites that carry
no role, bound to a link when handed out). A role-tagged link's invites carry its role, fixed
when Discord creates them, so such a link has a small pool of its own (LINK_POOL_SIZE) while it
is being clicked (LINK_POOL_ACTIVE_SECONDS); a cold link's first visitor waits for one invite
made on demand. Idle links hold no invites, so a campaign with hundreds of links stays far from
Discord's ~1,000 invites per guild: campaign pool + LINK_POOL_SIZE × hot links.
"""

from referrals.invites._handout import (
    Handout,
    NoInviteAvailable,
    claim_pooled_invite,
    hand_out_invite,
    held_invite,
    pool_drawn,
)
from referrals.invites._pool import (
    INVITE_CODE_RE,
    InviteCapReached,
    create_invite,
    invite_url,
    retire_invites,
    revoke_lead,
    top_up_pool,
    top_up_wanted,
    usable_until,
)

__all__ = [
    "INVITE_CODE_RE",
    "Handout",
    "InviteCapReached",
    "NoInviteAvailable",
    "claim_pooled_invite",
    "create_invite",
    "hand_out_invite",
    "held_invite",
    "invite_url",
    "pool_drawn",
    "retire_invites",
    "revoke_lead",
    "top_up_pool",
    "top_up_wanted",
    "usable_until",
]
