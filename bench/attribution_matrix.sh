#!/usr/bin/env bash
# Attribution under load: recall, link-credit accuracy and join → welcome p95 for
# {1, 5, 10} joins/s × {5, 50} links × referral roles {on, off}, plus a bot restart in the middle
# of a burst. Runs one simulation after another on the embedded defaults (a few minutes each
# batch) and prints one row per run; the JSON reports stay in var/matrix/.
set -euo pipefail
cd "$(dirname "$0")/.."
VISITORS=${VISITORS:-300}
mkdir -p var/matrix
row() {
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
a = r["attribution"]
lc = a["link_credit"]
print(f"| {sys.argv[1]} | {a['by_source']['invite']['recall']} | {a['wrong']} | "
      f"{lc['links_exact']}/{lc['links']} | {r['latency_ms']['join_to_welcome']['p95']} |")
PY
}
echo "| run | invite recall | wrong | links credited exactly | join → welcome p95 (ms) |"
echo "|---|---:|---:|---:|---:|"
for roles in on off; do
  for rate in 1 5 10; do
    for links in 5 50; do
      out="var/matrix/r${rate}-l${links}-${roles}.json"
      .venv/bin/python manage.py simulate --visitors "$VISITORS" --join-rate "$rate" \
        --links "$links" --referral-roles "$roles" --no-progress --json "$out" >/dev/null || true
      row "$rate/s, $links links, roles $roles" "$out"
    done
  done
done
out=var/matrix/restart.json
.venv/bin/python manage.py simulate --visitors "$VISITORS" --join-rate 10 --links 50 \
  --restart-bot-at 100 --bot-downtime 5 --no-progress --json "$out" >/dev/null || true
row "10/s, 50 links, roles on, bot down 5 s at join 100" "$out"
