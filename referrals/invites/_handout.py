"""The visitor's side of managed invites: handing one out (the visitor's own again, a pooled
one, one made on demand, or the campaign's fallback), one press at a time."""

import functools
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from botworker.discord_rest import DiscordError
from campaigns.models import Campaign
from referrals.invites._pool import Status, create_invite, revoke_lead, usable_until
from referrals.models import ManagedInvite, ReferralLink, UntrackedHandout
from referrals.roles import ensure_referral_role, wants_role

log = logging.getLogger("referrals.invites")

# A visitor's invite is handed to them again only while they have this long to accept it before
# it is revoked (`revoke_lead()` ahead of its expiry: INVITE_REVOKE_LEAD_SECONDS, at most a
# quarter of the invite's lifetime).
REUSE_MARGIN = timedelta(seconds=60)

# Sent after commit with `campaign_id` when a handout drew on a campaign's pools. The task
# module (above this one) listens and queues the top-up, so this module never imports it.
pool_drawn = Signal()


class NoInviteAvailable(Exception):
    """Discord could not give an invite and the campaign has no fallback."""


@dataclass(frozen=True)
class Handout:
    url: str
    tracked: bool
    invite: ManagedInvite | None = None


def hand_out_invite(link: ReferralLink, visitor_id: str, *, new_visitor: bool = False) -> Handout:
    """Give this visitor of `link` an invite.

    0. The visitor already holds a usable invite of this link (pressed Join again): that one,
       so a restless visitor drains neither the pool nor the guild's invite cap. A
       `new_visitor`'s id was made for this request: nothing to look up, no press to wait for.
    1. Claim the pooled invite that expires soonest (still comfortably valid) for the link.
    2. Pool empty: create one on Discord now, within INVITE_POOL_WAIT_SECONDS, already bound to
       this visitor (so no concurrent visitor can take it first).
    3. Discord failing: the campaign's fallback invite, recorded as an untracked handout.
    A handout from the pools asks for their top-up after commit (`pool_drawn`).
    """
    if new_visitor or not visitor_id:
        return _hand_out_new(link, visitor_id, claim_pooled_invite(link, visitor_id))
    key = f"join-press:{link.pk}:{visitor_id[:64]}"
    locked, earlier = _take_press(key, link, visitor_id)
    if earlier is not None:
        return _again(link, earlier)
    handout = None
    try:
        held, claimed = _held_or_claimed(link, visitor_id)
        if held is not None:
            return _again(link, held)
        handout = _hand_out_new(link, visitor_id, claimed)
        return handout
    finally:
        if locked and (handout is None or handout.invite is None):
            _release_press(key)  # nothing of this press to find: let the next one go at once


def _again(link: ReferralLink, held: ManagedInvite) -> Handout:
    log.info("invite %s handed again to its visitor on link %s", held, link.referral_code)
    return Handout(held.discord_invite_url, True, held)


def _take_press(key: str, link: ReferralLink, visitor_id: str):
    """(whether this press holds the mark, the visitor's invite from an earlier press or None).

    A visitor's presses on one link are served one after the other (a double-click sends two),
    so the second gets the first one's invite. The mark lives in the cache (shared through
    Redis) for `press_seconds()`: longer than a handout can take (a pooled invite takes
    milliseconds; one made on Discord at most INVITE_POOL_WAIT_SECONDS, half as much again for
    a referral role). A press that got an invite leaves its mark to lapse — deleting it would
    cost every press a round trip — so a press that finds the mark looks in the database for
    the earlier press's invite while it waits; one waiting longer than a handout can take goes
    ahead anyway.
    """
    hold = press_seconds()
    deadline = time.monotonic() + hold
    pause = threading.Event()
    try:
        while not cache.add(key, 1, timeout=hold):
            earlier = held_invite(link, visitor_id)
            if earlier is not None or time.monotonic() > deadline:
                return False, earlier
            pause.wait(0.05)
    except Exception as exc:  # the cache is unreachable: serve the press unserialised
        log.warning("join press of link %s not serialised: %r", link.referral_code, exc)
        return False, None
    return True, None


def press_seconds() -> int:
    return int(settings.INVITE_POOL_WAIT_SECONDS * 1.5) + 3


def _release_press(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as exc:
        log.warning("join press mark %s not released: %r", key, exc)


def _hand_out_new(link: ReferralLink, visitor_id: str, invite: ManagedInvite | None) -> Handout:
    """`invite`: the pooled one just claimed for the visitor, or None (the pools were empty)."""
    campaign = link.campaign
    if invite is None:
        if wants_role(link) and not link.referral_role_id:
            ensure_referral_role(link, budget=settings.INVITE_POOL_WAIT_SECONDS / 2)
        try:
            invite = create_invite(
                campaign,
                budget=settings.INVITE_POOL_WAIT_SECONDS,
                link=link,
                visitor_id=visitor_id,
            )
        except DiscordError as exc:
            return _fallback(link, visitor_id, f"{exc.__class__.__name__}: {exc}")
    transaction.on_commit(lambda: pool_drawn.send(sender=Campaign, campaign_id=str(campaign.pk)))
    log.info(
        "invite %s assigned to link %s (campaign %s)",
        invite.discord_invite_code,
        link.referral_code,
        campaign.pk,
    )
    return Handout(invite.discord_invite_url, True, invite)


def held_invite(link: ReferralLink, visitor_id: str) -> ManagedInvite | None:
    """The invite of `link` this visitor was given and has not used, while there is still time
    to accept it; None otherwise."""
    if not visitor_id:
        return None
    return (
        ManagedInvite.objects.filter(
            referral_link=link,
            visitor_id=visitor_id[:64],
            status=Status.ASSIGNED,
            expires_at__gt=_reusable_until(link),
        )
        .order_by("-expires_at")
        .first()
    )


def _reusable_until(link: ReferralLink):
    return timezone.now() + revoke_lead(link.campaign) + REUSE_MARGIN


def claim_pooled_invite(link: ReferralLink, visitor_id: str) -> ManagedInvite | None:
    """Atomically bind one pooled invite to the link; None when the pool is empty.

    One statement, one round trip: `UPDATE … WHERE id = (the pooled invite that expires soonest,
    still comfortably valid) RETURNING *`. On PostgreSQL the inner SELECT takes its row `FOR
    UPDATE SKIP LOCKED`, so concurrent visitors each take a different row instead of queueing,
    and the outer `status = 'pooled'` is the claim itself, so a row is never handed out twice;
    SQLite runs one writer at a time.
    """
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35
        return _claim_in_two_steps(link, visitor_id, timezone.now())
    sql, params = _claim_sql(link, visitor_id)
    row = _fetch_one(sql, params)
    return _invite(row) if row else None


def _held_or_claimed(
    link: ReferralLink, visitor_id: str
) -> tuple[ManagedInvite | None, ManagedInvite | None]:
    """(the visitor's held invite, None) or (None, a pooled invite just claimed for them, or
    None): on PostgreSQL in one statement (the claim runs only when nothing is held), else
    `held_invite`, then `claim_pooled_invite`."""
    if connection.vendor != "postgresql" or not visitor_id:
        held = held_invite(link, visitor_id)
        return held, None if held is not None else claim_pooled_invite(link, visitor_id)
    held_sql = (
        f"SELECT {_COLUMNS} FROM {_TABLE} WHERE referral_link_id = %s AND visitor_id = %s "
        "AND status = %s AND expires_at > %s ORDER BY expires_at DESC LIMIT 1"
    )
    claim_sql, claim_params = _claim_sql(link, visitor_id, unless_held=True)
    sql = (
        f"WITH held AS ({held_sql}), claimed AS ({claim_sql}) "
        f"SELECT {_COLUMNS}, true FROM held UNION ALL SELECT {_COLUMNS}, false FROM claimed"
    )
    params = [
        _db(_LINK, link.pk),
        visitor_id[:64],
        Status.ASSIGNED,
        _db(_EXPIRES, _reusable_until(link)),
        *claim_params,
    ]
    row = _fetch_one(sql, params)
    if row is None:
        return None, None
    return (_invite(row), None) if row[-1] else (None, _invite(row))


# The statements here are written out (the ORM has no UPDATE … RETURNING) and read with a bare
# cursor: on the Join hot path, building and reading them through the ORM cost more than the
# round trip.
_TABLE = ManagedInvite._meta.db_table
_FIELDS = ManagedInvite._meta.concrete_fields
_COLUMNS = ", ".join(field.column for field in _FIELDS)
_LINK, _CAMPAIGN, _EXPIRES = (
    ManagedInvite._meta.get_field(name) for name in ("referral_link", "campaign", "expires_at")
)


def _db(field, value):
    return field.get_db_prep_value(value, connection)


def _fetch_one(sql: str, params: list) -> tuple | None:
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _cursor():
    """Django's cursor; on PostgreSQL one that runs its statements prepared (server-side
    binding, `prepare=True`): the claim is planned once per pooled connection, not once per
    press (planning it cost more than running it). Wrapped like Django's own cursors, so
    execute wrappers see it; while queries are logged (DEBUG, query capture in tests), which
    shows only client-side bound SQL, Django's own cursor runs the same statement unprepared.
    (Prepared statements need a session of their own: behind a transaction-pooling PgBouncer,
    turn its prepared-statement support on.)"""
    if connection.vendor != "postgresql" or connection.queries_logged:
        return connection.cursor()
    connection.ensure_connection()
    return connection.make_cursor(_prepared_cursor_class()(connection.connection))


@functools.cache
def _prepared_cursor_class():
    import psycopg

    class Prepared(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params, prepare=True, **kwargs)

    return Prepared


_converters: dict[str, list] = {}


def _invite(row: tuple) -> ManagedInvite:
    """A ManagedInvite from a row of `_COLUMNS`, converted as the ORM would (SQLite keeps UUIDs
    and times as text); the converters are looked up once per database vendor."""
    converters = _converters.get(connection.vendor)
    if converters is None:
        converters = _converters[connection.vendor] = [
            (
                field.get_col(_TABLE),
                connection.ops.get_db_converters(field.get_col(_TABLE))
                + field.get_db_converters(connection),
            )
            for field in _FIELDS
        ]
    values = []
    for (column, convert_all), value in zip(converters, row, strict=False):
        for convert in convert_all:
            value = convert(value, column, connection)
        values.append(value)
    return ManagedInvite.from_db(connection.alias, [field.attname for field in _FIELDS], values)


def _claim_sql(link: ReferralLink, visitor_id: str, unless_held: bool = False):
    """The claim statement (`claim_pooled_invite`) and its parameters; `unless_held`: inside
    `_held_or_claimed`'s WITH, where it claims only when the `held` part found nothing."""
    now = timezone.now()
    # A role-tagged link's invites carry its role: only its own pool fits.
    own = "referral_link_id = %s" if link.referral_role_id else "referral_link_id IS NULL"
    lock = (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )
    # Inside the pick, so that with a held invite no pooled row is even locked (a row lock is a
    # write: it would make the statement wait for a WAL flush like a claim).
    guard = "NOT EXISTS (SELECT 1 FROM held) AND " if unless_held else ""
    sql = (
        f"UPDATE {_TABLE} SET status = %s, referral_link_id = %s, visitor_id = %s, "
        f"assigned_at = %s WHERE status = %s AND id = (SELECT id FROM {_TABLE} "
        f"WHERE {guard}campaign_id = %s AND status = %s AND expires_at > %s AND {own} "
        f"ORDER BY expires_at LIMIT 1{lock}) RETURNING {_COLUMNS}"
    )
    link_id = _db(_LINK, link.pk)
    params = [
        Status.ASSIGNED,
        link_id,
        visitor_id[:64],
        _db(_EXPIRES, now),
        Status.POOLED,
        _db(_CAMPAIGN, link.campaign_id),
        Status.POOLED,
        _db(_EXPIRES, usable_until(link.campaign, now)),
    ]
    if link.referral_role_id:
        params.append(link_id)
    return sql, params


def _claim_in_two_steps(link: ReferralLink, visitor_id: str, now) -> ManagedInvite | None:
    own = {"referral_link": link} if link.referral_role_id else {"referral_link__isnull": True}
    while True:
        with transaction.atomic():
            invite = (
                ManagedInvite.objects.select_for_update(skip_locked=True)
                .filter(
                    campaign_id=link.campaign_id,
                    status=Status.POOLED,
                    expires_at__gt=usable_until(link.campaign, now),
                    **own,
                )
                .order_by("expires_at")
                .first()
            )
            if invite is None:
                return None
            claimed = ManagedInvite.objects.filter(pk=invite.pk, status=Status.POOLED).update(
                status=Status.ASSIGNED,
                referral_link=link,
                visitor_id=visitor_id[:64],
                assigned_at=now,
            )
            if claimed == 1:
                invite.refresh_from_db()
                return invite


def _fallback(link: ReferralLink, visitor_id: str, reason: str) -> Handout:
    campaign = link.campaign
    log.warning(
        "no tracked invite for link %s (campaign %s): %s; %s",
        link.referral_code,
        campaign.pk,
        reason,
        "sending the fallback invite" if campaign.fallback_invite_url else "no fallback set",
    )
    if not campaign.fallback_invite_url:
        raise NoInviteAvailable(reason)
    UntrackedHandout.objects.create(link=link, visitor_id=visitor_id[:64], reason=reason[:200])
    return Handout(campaign.fallback_invite_url, False)
