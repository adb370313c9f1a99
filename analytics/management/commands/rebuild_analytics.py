"""`manage.py rebuild_analytics`: recompute the daily rollups and the links' counters from the
event log (after a bulk import, a restore, or to prove the live numbers right)."""

import time

from django.core.management.base import BaseCommand

from analytics import rollups


class Command(BaseCommand):
    help = "Recompute daily rollups and referral-link counters from the events table."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        rows, links = rollups.rebuild()
        self.stdout.write(
            f"Rebuilt {rows} rollup rows; corrected {links} link counters "
            f"in {time.monotonic() - started:.1f}s."
        )
