"""Model: the best member recall any invite-use diff can reach without referral roles.

    .venv/bin/python bench/diff_bound.py [--joins 20000] [--seed 1] [--json PATH]

No Discord, no database: joins arrive as `simulate` makes them (Poisson, links chosen with
Zipf weights 1/rank^1.1), each GUILD_MEMBER_ADD reaches the bot `gateway` seconds after the
join, and an invite list is built by Discord `rest/2` after the bot sends for it and arrives
`rest/2` later. The bot knows only what a diff can know: which uses each list shows, and which
members' events had arrived before it sent for the list. From those, a list is a *cut* when
every use it shows belongs to a member whose event came before it was sent (then the uses up to
it are exactly those members'), and the joins between two cuts form a block. A member is named
when alone in their block, and credited to a link when every use of the block is that link's;
no reasoning from the counts and the order of events pairs anyone else, since inside a block
every member could have used any of its invites. So this is an upper bound for the tracker,
whatever its rules; `simulate` measures what the tracker reaches.

Two ways to fetch: `serial`, one list at a time (joins that arrive during a fetch share the
next one, as the tracker does), and `per join`, a list for every join the moment its event
arrives (the most a bot could ask for).
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
from pathlib import Path

# (joins per second, links): the rows of bench/README.md's matrix, without referral roles.
TRAFFIC = [(1, 5), (1, 20), (1, 50), (5, 5), (5, 50), (10, 5), (10, 50)]
# (gateway delay, REST round trip) in seconds: `simulate`'s default Discord (80 ms) and nearer.
DISCORDS = [(0.080, 0.080), (0.040, 0.040), (0.020, 0.020), (0.010, 0.010)]
REACTION = 0.005  # from an event's arrival to the request leaving the bot


def bound(
    rate: float, links: int, gateway: float, rest: float, *, per_join: bool, joins: int, seed: int
) -> dict[str, float]:
    """Shares of `joins` that can be named (`exact`) and credited to their link (`recall`)."""
    rnd = random.Random(seed)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(links)]
    joined: list[float] = []
    now = 0.0
    for _ in range(joins):
        now += rnd.expovariate(rate)
        joined.append(now)
    link_of = rnd.choices(range(links), weights, k=joins)
    arrived = [t + gateway for t in joined]
    sent: list[float] = []
    if per_join:
        sent = [a + REACTION for a in arrived]
    else:
        free, i = 0.0, 0
        while i < joins:
            send = max(arrived[i], free) + REACTION
            sent.append(send)
            free = send + rest
            while i < joins and arrived[i] < send:
                i += 1
    cuts = []
    for send in sent:
        built = send + rest / 2
        # Every use the list shows (joins before `built`) had its event before `send`: no join
        # in [send - gateway, built).
        if bisect.bisect_left(joined, send - gateway) == bisect.bisect_left(joined, built):
            cuts.append(built)
    cuts.sort()
    blocks: list[list[int]] = [[]]
    c = 0
    for i, t in enumerate(joined):
        while c < len(cuts) and cuts[c] < t:
            if blocks[-1]:
                blocks.append([])
            c += 1
        blocks[-1].append(i)
    exact = sum(len(block) == 1 for block in blocks)
    credited = sum(len(block) for block in blocks if len({link_of[j] for j in block}) == 1)
    return {"exact": round(exact / joins, 3), "recall": round(credited / joins, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=20_000, help="joins per cell (default 20000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the table here")
    options = parser.parse_args()
    if options.joins < 100:
        parser.error("--joins must be at least 100")
    rows = []
    header = f"{'joins/s':>7} {'links':>5} {'gateway':>8} {'rest RTT':>8}"
    print(f"{header}  serial recall  per-join recall")
    for gateway, rest in DISCORDS:
        for rate, links in TRAFFIC:
            cell = {"join_rate": rate, "links": links, "gateway_ms": gateway * 1000}
            cell["rest_rtt_ms"] = rest * 1000
            for name, per_join in (("serial", False), ("per_join", True)):
                cell[name] = bound(
                    rate, links, gateway, rest, per_join=per_join,
                    joins=options.joins, seed=options.seed,
                )  # fmt: skip
            rows.append(cell)
            print(
                f"{rate:>7} {links:>5} {gateway * 1000:>6.0f}ms {rest * 1000:>6.0f}ms"
                f"  {cell['serial']['recall']:>13}  {cell['per_join']['recall']:>15}"
            )
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2) + "\n")
        print(f"written to {options.json}")


if __name__ == "__main__":
    main()
