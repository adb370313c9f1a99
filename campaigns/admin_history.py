"""Deleting a campaign or a link that has recorded activity: refused, saying why and what to do.

Events, sessions, answers and conversions point at their campaign and link with PROTECT: the
funnel's history is never deleted with them. Django's own delete page would list every such
row (a million clicks: a page that never renders) under a message that blames the manager's
permissions. This counts them per kind instead, and says to switch the campaign or link off.
"""

from __future__ import annotations

from django.db import models

HISTORY_APP = "analytics"


class KeepsHistory:
    """A ModelAdmin mixin: the delete page (and the bulk delete action) of objects that
    PROTECT-ed rows point at lists what they hold, and deletes nothing."""

    model: type[models.Model]

    def get_deleted_objects(self, objs, request):
        held = self._history(objs)
        if held:
            name = self.model._meta.verbose_name
            advice = f"the history is kept, so switch the {name} off instead"
            protected = [f"{count} recorded {label} — {advice}" for label, count in held]
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)  # type: ignore[misc]

    def _history(self, objs) -> list[tuple[str, int]]:
        """(verbose name, count) of the PROTECT-ed rows pointing at `objs`, counted in SQL."""
        pks = [obj.pk for obj in objs]
        held = []
        for relation in self.model._meta.related_objects:
            # The funnel's records (events, sessions, answers, conversions); a campaign's links
            # and invites are Django's usual protected objects: delete those first.
            history = relation.related_model._meta.app_label == HISTORY_APP
            if relation.on_delete is not models.PROTECT or not history:
                continue
            rows = relation.related_model._base_manager.filter(
                **{f"{relation.field.name}__in": pks}
            )
            count = rows.count()
            if count:
                meta = relation.related_model._meta
                held.append(
                    (str(meta.verbose_name if count == 1 else meta.verbose_name_plural), count)
                )
        return held
