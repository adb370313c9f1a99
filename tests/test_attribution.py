"""Which invite did a new member use: never a wrong credit, and exact when the evidence allows."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from botworker.attribution import (
    AMBIGUOUS,
    EXACT,
    LINK,
    ORGANIC,
    UNKNOWN,
    Carry,
    Decision,
    Evidence,
    InviteState,
    Join,
    Use,
    attribute,
    judge,
    next_before,
    snapshot_from,
    with_created,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(seconds=5)


def invite(code, uses=0, max_uses=1, expires_at=None):
    return InviteState(code, uses, max_uses, expires_at)


def evidence(before, after, **extra):
    extra.setdefault("deleted", {})
    extra.setdefault("revoked", frozenset())
    extra.setdefault("managed", {})
    return Evidence(before=snapshot_from(before), after=snapshot_from(after), **extra)


def joins(*members):
    return [Join(member, T0) for member in members]


def kinds(decisions):
    return [(d.kind, d.invite_code, d.link_id) for d in decisions]


BOB_INVITE, CHARLIE_INVITE = invite("bobA"), invite("charlieA")
MANAGED = {"bobA": "bob", "bobB": "bob", "bobC": "bob", "charlieA": "charlie", "pool1": None}


def test_it_credits_a_single_join_through_a_managed_invite_exactly():
    # given: bob's single-use invite vanished, its INVITE_DELETE seen
    ev = evidence([BOB_INVITE, CHARLIE_INVITE], [CHARLIE_INVITE], managed=MANAGED)
    # when
    decisions = attribute(ev, joins("m1"), LATER)
    # then
    assert decisions == [Decision("m1", EXACT, "bobA", "bob", ("bobA",), "bob")]


def test_it_decides_the_same_whether_invite_delete_came_before_or_after_the_join():
    # given: the same consumption, with the delete seen before the join and not yet seen
    before = [BOB_INVITE, CHARLIE_INVITE]
    delete_first = evidence(before, [CHARLIE_INVITE], managed=MANAGED, deleted={"bobA": T0})
    delete_later = evidence(before, [CHARLIE_INVITE], managed=MANAGED)
    # when / then
    assert attribute(delete_first, joins("m1"), LATER) == attribute(
        delete_later, joins("m1"), LATER
    )
    assert kinds(attribute(delete_later, joins("m1"), LATER)) == [(EXACT, "bobA", "bob")]


def test_it_keeps_a_code_whose_delete_arrived_first_in_the_snapshot():
    # given: the snapshot, then INVITE_CREATE for another invite (there is no "with_deleted")
    snapshot = with_created(snapshot_from([BOB_INVITE]), CHARLIE_INVITE)
    # then: bob's consumed invite is still there for the diff
    assert set(snapshot) == {"bobA", "charlieA"}


def test_it_records_two_joins_through_two_links_as_ambiguous():
    ev = evidence([BOB_INVITE, CHARLIE_INVITE], [], managed=MANAGED)
    decisions = attribute(ev, joins("m1", "m2"), LATER)
    assert kinds(decisions) == [(AMBIGUOUS, None, None)] * 2
    assert decisions[0].candidates == ("bobA", "charlieA")


def test_it_credits_three_joins_through_one_links_invites_to_the_link():
    before = [invite("bobA"), invite("bobB"), invite("bobC"), CHARLIE_INVITE]
    ev = evidence(before, [CHARLIE_INVITE], managed=MANAGED)
    decisions = attribute(ev, joins("m1", "m2", "m3"), LATER)
    assert kinds(decisions) == [(LINK, None, "bob")] * 3


def test_it_records_a_join_through_a_permanent_invite_as_organic():
    ev = evidence([invite("perm", 7, 0)], [invite("perm", 8, 0)], managed=MANAGED)
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(ORGANIC, "perm", None)]


def test_it_records_a_join_through_the_vanity_url_as_organic():
    # the tracker lists the vanity URL (Get Guild Vanity URL: code and uses) among the invites
    vanity = [invite("launch", 40, 0), invite("launch", 41, 0)]
    ev = evidence([BOB_INVITE, vanity[0]], [BOB_INVITE, vanity[1]], managed=MANAGED)
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(ORGANIC, "launch", None)]


def test_it_does_not_count_an_expired_invite_that_vanished():
    # given: bob's invite expired an hour ago and is gone from the list
    expired = invite("bobA", expires_at=T0 - timedelta(hours=1))
    ev = evidence([expired], [], managed=MANAGED)
    # then: it is not a candidate
    assert attribute(ev, joins("m1"), LATER) == [Decision("m1", UNKNOWN, None, None, ())]


def test_it_is_not_sure_when_a_used_invite_may_have_expired_first():
    # given: one invite consumed, another gone within seconds of its expiry (used or expired?)
    borderline = invite("charlieA", expires_at=LATER)
    ev = evidence([BOB_INVITE, borderline], [], managed=MANAGED)
    # then: the join may have used either
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(AMBIGUOUS, None, None)]


def test_it_does_not_count_an_invite_we_revoked():
    ev = evidence([BOB_INVITE], [], managed=MANAGED, revoked=frozenset({"bobA"}))
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(UNKNOWN, None, None)]


def test_it_does_not_count_a_pooled_invite_that_vanished():
    ev = evidence([invite("pool1"), BOB_INVITE], [], managed=MANAGED)
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(EXACT, "bobA", "bob")]


def test_it_records_a_pooled_invite_that_gained_a_use_as_ambiguous():
    ev = evidence([invite("pool1")], [invite("pool1", 1)], managed=MANAGED)
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(AMBIGUOUS, None, None)]


def test_it_does_not_credit_a_link_whose_invite_an_admin_deleted_during_an_organic_join():
    # given: an admin deletes bob's unused invite while m1 joins through a permanent invite
    ev = evidence([BOB_INVITE, invite("perm", 3, 0)], [invite("perm", 4, 0)], managed=MANAGED)
    # when
    [decision] = attribute(ev, joins("m1"), LATER)
    # then: two candidates for one join
    assert (decision.kind, decision.link_id, decision.candidates) == (
        AMBIGUOUS,
        None,
        ("bobA", "perm"),
    )


def test_it_cannot_tell_a_hand_deletion_from_a_use_when_the_join_left_no_trace():
    # given: m1 joined through Server Discovery (no invite) while an admin deleted bob's invite;
    # the evidence is exactly that of m1 consuming it (the residual case in the docstring)
    ev = evidence([BOB_INVITE], [], managed=MANAGED)
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(EXACT, "bobA", "bob")]
    # when: the audit log names the deletion, the caller passes it as revoked
    ev = evidence([BOB_INVITE], [], managed=MANAGED, revoked=frozenset({"bobA"}))
    # then
    assert kinds(attribute(ev, joins("m1"), LATER)) == [(UNKNOWN, None, None)]


def test_it_does_not_credit_the_next_join_with_a_use_from_the_window_after_it():
    # given: m1's fetch already showed m2's use of charlie's invite (m2's event came later)
    first = evidence(
        [BOB_INVITE, CHARLIE_INVITE, invite("bobB")], [invite("bobB")], managed=MANAGED
    )
    judged = judge(first, joins("m1"), T0)
    assert kinds(judged.decisions) == [(AMBIGUOUS, None, None)]
    assert judged.carry.unclaimed == 1
    # when: m2 arrives, and m3 (whose event is still to come) has used bob's other invite
    second = evidence([invite("bobB")], [], managed=MANAGED, carry=judged.carry)
    # then: m2 is not credited with bob
    assert kinds(attribute(second, joins("m2"), LATER)) == [(AMBIGUOUS, None, None)]


def test_it_credits_a_join_whose_use_an_earlier_fetch_already_showed():
    # given: m1's fetch showed m1's and m2's uses; m1 was credited by its referral role
    first = evidence([BOB_INVITE, CHARLIE_INVITE], [], managed=MANAGED)
    judged = judge(first, [Join("m1", T0, frozenset({"bob"}))], T0)
    assert kinds(judged.decisions) == [(EXACT, "bobA", "bob")]
    # when: m2 arrives and the window after it shows nothing new
    second = evidence([], [], managed=MANAGED, carry=judged.carry)
    # then: the carried use is m2's
    assert kinds(attribute(second, joins("m2"), LATER)) == [(EXACT, "charlieA", "charlie")]


def test_it_forgets_an_unclaimed_use_once_it_is_older_than_the_gateway_lag():
    # given: a use no member claimed (an admin deleted bob's unused invite, say)
    carry = Carry((Use("bobA", T0),), 1)
    # when: the gateway's lag has passed since it was seen
    fresh = carry.expire(T0 - timedelta(seconds=1))
    stale = carry.expire(T0 + timedelta(seconds=1))
    # then: it blocks decisions only while a member may still be on the way
    assert fresh == carry
    assert stale == Carry()
    ev = evidence([CHARLIE_INVITE], [], managed=MANAGED, carry=stale)
    assert kinds(attribute(ev, joins("m2"), LATER)) == [(EXACT, "charlieA", "charlie")]


def test_it_gives_each_link_its_joins_when_the_pairing_is_unknown():
    # given: three members, bob's two invites and charlie's one consumed in one window
    before = [invite("bobA"), invite("bobB"), CHARLIE_INVITE]
    ev = evidence(before, [], managed=MANAGED)
    # when
    decisions = attribute(ev, joins("m1", "m2", "m3"), LATER)
    # then: nobody is credited, but bob counts two joins and charlie one
    assert kinds(decisions) == [(AMBIGUOUS, None, None)] * 3
    assert sorted(d.credit_link for d in decisions) == ["bob", "bob", "charlie"]


def test_it_gives_no_link_credit_when_the_uses_do_not_match_the_members():
    ev = evidence([BOB_INVITE, CHARLIE_INVITE, invite("perm", 1, 0)], [], managed=MANAGED)
    decisions = attribute(ev, joins("m1"), LATER)
    assert [d.credit_link for d in decisions] == [None]


def test_it_credits_members_by_their_referral_role_however_many_joined():
    # given: bob's and charlie's invites consumed by two members at once
    ev = evidence([BOB_INVITE, CHARLIE_INVITE], [], managed=MANAGED)
    # when: each carries their link's role
    decisions = attribute(
        ev, [Join("m1", T0, frozenset({"charlie"})), Join("m2", T0, frozenset({"bob"}))], LATER
    )
    # then
    assert kinds(decisions) == [(EXACT, "charlieA", "charlie"), (EXACT, "bobA", "bob")]


def test_it_refuses_a_referral_role_the_window_cannot_explain():
    # given: only charlie's invite was used, yet two members carry charlie's role
    ev = evidence([CHARLIE_INVITE], [], managed=MANAGED)
    holders = [Join(m, T0, frozenset({"charlie"})) for m in ("m1", "m2")]
    # then
    assert kinds(attribute(ev, holders, LATER)) == [(AMBIGUOUS, None, None)] * 2
    # and: a role with no use of its link's invites at all
    ev = evidence([BOB_INVITE], [], managed=MANAGED)
    assert kinds(attribute(ev, [Join("m1", T0, frozenset({"charlie"}))], LATER)) == [
        (AMBIGUOUS, None, None)
    ]


def test_it_names_no_code_when_an_uncounted_use_could_be_the_links():
    # given: an earlier window left uses it could not count (charlie's other invite vanished
    # around its expiry), and charlie's first invite was consumed
    first = evidence(
        [CHARLIE_INVITE, invite("charlieB", expires_at=T0 + timedelta(seconds=10))],
        [],
        managed={**MANAGED, "charlieB": "charlie"},
    )
    carry = judge(first, joins("m0"), T0).carry
    # when: a member carrying charlie's role is judged against that carry
    second = evidence([], [], managed=MANAGED, carry=carry)
    decisions = attribute(second, [Join("m1", T0, frozenset({"charlie"}))], LATER)
    # then: the link is certain, the invite is not
    assert kinds(decisions) == [(LINK, None, "charlie")]


def test_it_refuses_a_member_with_two_referral_roles():
    ev = evidence([BOB_INVITE, CHARLIE_INVITE], [], managed=MANAGED)
    both = Join("m1", T0, frozenset({"bob", "charlie"}))
    assert kinds(attribute(ev, [both, Join("m2", T0)], LATER)) == [(AMBIGUOUS, None, None)] * 2


def test_it_credits_the_link_not_the_code_when_role_holders_share_its_invites():
    before = [invite("bobA"), invite("bobB")]
    ev = evidence(before, [], managed=MANAGED)
    holders = [Join(m, T0, frozenset({"bob"})) for m in ("m1", "m2")]
    assert kinds(attribute(ev, holders, LATER)) == [(LINK, None, "bob")] * 2


def test_it_carries_a_use_hidden_behind_an_expiry_into_the_next_batch():
    # given: m1 used charlie's invite; bob's vanished around its expiry, perhaps used by m2,
    # whose event comes later
    expiring = invite("bobA", expires_at=T0 + timedelta(seconds=10))
    first = evidence([expiring, CHARLIE_INVITE], [], managed=MANAGED)
    later = T0 + timedelta(minutes=1)
    judged = judge(first, joins("m1"), later)
    assert kinds(judged.decisions) == [(AMBIGUOUS, None, None)]
    # when: m2 arrives, and m3 (whose event is still to come) has used bob's other invite
    second = evidence([invite("bobB")], [], managed=MANAGED, carry=judged.carry)
    # then: m2 is not credited with m3's invite
    assert judged.carry.unclaimed is None
    assert kinds(attribute(second, joins("m2"), later)) == [(AMBIGUOUS, None, None)]


def test_it_carries_an_unknown_count_when_an_unlimited_invite_vanished():
    ev = evidence([invite("temp", 2, 0, T0)], [], managed=MANAGED)
    carry = judge(ev, joins("m1"), LATER).carry
    assert carry.unclaimed is None
    # and: the uncertainty ends with the gateway's lag
    assert carry.expire(LATER + timedelta(seconds=1)) == Carry()


def test_it_counts_a_duplicate_join_once():
    ev = evidence([BOB_INVITE], [], managed=MANAGED)
    decisions = attribute(ev, [Join("m1", T0), Join("m1", T0)], LATER)
    assert kinds(decisions) == [(EXACT, "bobA", "bob")] * 2


def test_it_keeps_the_known_state_on_a_late_invite_create():
    snapshot = snapshot_from([invite("perm", 4, 0)])
    assert with_created(snapshot, invite("perm", 0, 0))["perm"].uses == 4


def test_it_leaves_invites_expired_at_the_fetch_out_of_the_next_snapshot():
    after = snapshot_from([invite("old", expires_at=T0), BOB_INVITE])
    assert set(next_before(after, [CHARLIE_INVITE], now=T0 + timedelta(minutes=5))) == {
        "bobA",
        "charlieA",
    }


# A simulated guild: Discord's side, the gateway, and the bot rolling its snapshot forward.

LINKS = ("bob", "charlie", "dave")
ROLE_LINKS = {"bob", "charlie"}  # links with a referral role; dave's invites give none
# The gateway's lag: every event is delivered within it of the change it reports.
LAG = timedelta(seconds=0.5)
expiry = st.one_of(st.none(), st.integers(20, 900))
guild_invites = st.tuples(
    st.lists(st.tuples(st.just("assigned"), expiry), min_size=2, max_size=8),
    st.lists(st.tuples(st.sampled_from(("pooled", "single", "multi", "perm")), expiry), max_size=4),
).map(lambda parts: [*parts[0], *parts[1], ("perm", None)])
pick = st.integers(0, 99)
# (pick, INVITE_DELETE first, a rejoin, the referral role visible when the bot judges)
join = st.tuples(st.just("join"), pick, st.booleans(), st.booleans(), st.booleans())
# The bot fetches as soon as a join is delivered, unless a fetch is already in flight.
deliver = st.tuples(st.just("deliver"), st.integers(1, 4), st.booleans())
fetch = st.tuples(st.just("fetch"))
actions = st.lists(
    st.one_of(
        *[join] * 4,
        *[deliver] * 3,
        *[fetch] * 2,
        st.tuples(st.just("vanity"), st.booleans()),
        st.tuples(st.just("tick"), st.integers(1, 300)),
        st.tuples(st.just("revoke"), pick),
        st.tuples(st.just("admin_delete"), pick),
        st.tuples(st.just("assign"), pick, st.sampled_from(LINKS)),
        st.tuples(st.just("create"), expiry, st.sampled_from((None, *LINKS))),
        st.tuples(st.just("duplicate"), pick),
        st.tuples(st.just("quiet")),
    ),
    min_size=5,
    max_size=60,
)


@dataclass
class Guild:
    now: datetime = T0
    live: dict = field(default_factory=dict)  # Discord's invite list
    managed: dict = field(default_factory=dict)  # our database: code -> link (None = pooled)
    gateway: list = field(default_factory=list)  # events not yet delivered, in order
    truth: dict = field(default_factory=dict)  # (member, joined_at) -> (code, link or None)
    members: list = field(default_factory=list)
    roles: dict = field(default_factory=dict)  # code -> the link whose role the invite gives

    def add(self, code, kind, expires_in, link=None):
        expires_at = None if expires_in is None else self.now + timedelta(seconds=expires_in)
        max_uses = {"multi": 3, "perm": 0}.get(kind, 1)
        self.live[code] = invite(code, 0, max_uses, expires_at)
        if kind in ("assigned", "pooled"):
            self.managed[code] = link if kind == "assigned" else None
        if kind == "assigned" and link in ROLE_LINKS:
            self.roles[code] = link
        return self.live[code]

    def usable(self):
        return sorted(c for c in self.live if self.managed.get(c, "organic") is not None)

    def join(self, code, delete_first, rejoin, role_seen=False):
        member = f"m{len(self.members)}"
        if rejoin and self.members and self.members[-1][1] != self.now:
            member = self.members[-1][0]
        self.members.append((member, self.now))
        self.truth[(member, self.now)] = (code, self.managed.get(code))
        role = self.roles.get(code)
        events = [("join", Join(member, self.now, frozenset({role} if role and role_seen else ())))]
        old = self.live[code]
        self.live[code] = invite(code, old.uses + 1, old.max_uses, old.expires_at)
        if old.max_uses and old.uses + 1 >= old.max_uses:
            del self.live[code]
            events.insert(0 if delete_first else 1, ("delete", code))
        self.gateway += events

    def tick(self, seconds):
        self.now += timedelta(seconds=seconds)
        self.live = {
            c: i for c, i in self.live.items() if not i.expires_at or i.expires_at > self.now
        }


@dataclass
class Bot:
    guild: Guild
    before: dict
    deleted: dict = field(default_factory=dict)
    revoked: set = field(default_factory=set)
    pending: list = field(default_factory=list)
    seen: set = field(default_factory=set)
    carry: Carry = field(default_factory=Carry)
    arrived: dict = field(default_factory=dict)  # pending join -> when it was delivered
    decided: list = field(default_factory=list)

    def deliver(self, count):
        for _ in range(min(count, len(self.guild.gateway))):
            kind, payload = self.guild.gateway.pop(0)
            if kind == "join":
                self.pending.append(payload)
                self.arrived.setdefault(payload, self.guild.now)
            elif kind == "delete":
                self.deleted[payload] = self.guild.now
            else:
                self.before = with_created(self.before, payload)

    def fetch(self):
        batch = [j for j in self.pending if (j.member_id, j.joined_at) not in self.seen]
        self.pending = []
        if not batch:
            return
        guild = self.guild
        ev = Evidence(
            before=self.before,
            after=dict(guild.live),
            deleted=dict(self.deleted),
            revoked=frozenset(self.revoked),
            managed=dict(guild.managed),
            carry=self.carry.expire(min(self.arrived[j] for j in batch) - LAG),
        )
        judged = judge(ev, batch, guild.now)
        decisions = judged.decisions
        assert [d.member_id for d in decisions] == [j.member_id for j in batch]
        for decision in decisions:
            keys = {(j.member_id, j.joined_at) for j in batch if j.member_id == decision.member_id}
            assert_true_to(decision, {guild.truth[key] for key in keys})
        self.decided += list(zip(batch, decisions, strict=True))
        self.carry = judged.carry
        self.arrived = {}
        self.seen |= {(j.member_id, j.joined_at) for j in batch}
        self.before = next_before(ev.after, now=guild.now)
        self.deleted = {c: t for c, t in self.deleted.items() if c in self.before}

    def quiet(self):
        """Longer than the gateway's lag without a join: every earlier use is accounted for."""
        self.deliver(len(self.guild.gateway))
        self.fetch()
        self.carry = Carry()


def assert_true_to(decision, mine):
    """`mine` holds (code, link or None) for each of the member's joins in the batch."""
    if decision.kind == EXACT:
        assert (decision.invite_code, decision.link_id) in mine
    elif decision.kind == LINK:
        assert decision.link_id in {link for _, link in mine} and decision.invite_code is None
    elif decision.kind == ORGANIC:
        assert decision.link_id is None
        assert any(link is None for _, link in mine)
        assert decision.invite_code in {None} | {code for code, link in mine if link is None}
    else:
        assert (decision.invite_code, decision.link_id) == (None, None)


def run(guild_spec, steps):
    guild = Guild()
    guild.live["vanity"] = invite("vanity", 0, 0, None)  # the tracker lists the vanity URL
    for n, (kind, expires_in) in enumerate(guild_spec):
        guild.add(f"{kind}{n}", kind, expires_in, LINKS[n % len(LINKS)])
    bot = Bot(guild, snapshot_from(guild.live.values()))
    for step in steps:
        match step:
            case ("join", n, delete_first, rejoin, role_seen) if guild.usable():
                codes = guild.usable()
                guild.join(codes[n % len(codes)], delete_first, rejoin, role_seen)
            case ("vanity", rejoin):
                guild.join("vanity", False, rejoin)
            case ("deliver", count, then_fetch):
                bot.deliver(count)
                if then_fetch:
                    bot.fetch()
            case ("fetch",):
                bot.fetch()
            case ("tick", seconds):
                bot.deliver(len(guild.gateway))  # no event is later than the gateway's lag
                guild.tick(seconds)
            case ("revoke" | "admin_delete" as how, n):
                pooled = how == "revoke"
                codes = sorted(
                    c
                    for c in guild.live
                    if c != "vanity" and (guild.managed.get(c, 0) is None) == pooled
                )
                if codes:
                    code = codes[n % len(codes)]
                    del guild.live[code]
                    guild.gateway.append(("delete", code))
                    if pooled:
                        bot.revoked.add(code)
            case ("assign", n, link):
                pool = sorted(c for c in guild.live if c in guild.managed and not guild.managed[c])
                if pool:
                    guild.managed[pool[n % len(pool)]] = link
            case ("create", expires_in, link):
                kind = "assigned" if link else "pooled"
                created = guild.add(f"new{len(guild.managed)}", kind, expires_in, link)
                guild.gateway.append(("create", created))
            case ("duplicate", n) if guild.members:
                member, joined_at = guild.members[n % len(guild.members)]
                guild.gateway.append(("join", Join(member, joined_at)))
    bot.quiet()
    return bot


@settings(max_examples=1000, deadline=None)
@given(guild_invites, actions)
def test_it_never_credits_an_invite_or_link_the_member_did_not_use(guild_spec, steps):
    # given / when: a random life of a guild; each fetch's decisions are checked in Bot.fetch
    bot = run(guild_spec, steps)
    # then: every real join was decided, once
    assert {(j.member_id, j.joined_at) for j, _ in bot.decided} == set(bot.guild.truth)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LINKS), st.booleans()), min_size=1, max_size=12))
def test_it_decides_every_join_when_each_fetch_covers_one(visits):
    # given: a guild with an assigned or a permanent invite per visit
    guild = Guild()
    for n, (link, managed) in enumerate(visits):
        guild.add(f"i{n}", "assigned" if managed else "perm", None, link)
    bot = Bot(guild, snapshot_from(guild.live.values()))
    # when: each visitor joins, and the bot fetches before the next one does
    for n in range(len(visits)):
        guild.join(f"i{n}", n % 2 == 0, False)
        bot.deliver(2)
        bot.fetch()
    # then
    assert len(bot.decided) == len(visits)
    for join, decision in bot.decided:
        code, link = guild.truth[(join.member_id, join.joined_at)]
        expected = (EXACT, code, link) if link else (ORGANIC, code, None)
        assert (decision.kind, decision.invite_code, decision.link_id) == expected
