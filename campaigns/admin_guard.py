"""Admin pages that read what a form or URL says without trusting it.

Three places in Django's admin turn a value no form would send into a server error: an
autocomplete box re-rendering a related id that is not one (`?campaign=abc`), an add form
prefilled with a date or time from the URL (`?starts_at=2026-01-01`), and a list action over
selected ids that are not ids. `GuardedAdmin` answers each as the rest of the admin answers bad
input: the form says the choice is not valid, the prefill is left out, the action does nothing
and says why.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

BAD_VALUE = (ValueError, TypeError, OverflowError, ValidationError)
# The widest integer a database key holds (BigAutoField): larger ones overflow in the query.
MAX_KEY = 2**63 - 1


def readable(field: models.Field, value: object) -> bool:
    """Whether `value` can stand for `field` in a query."""
    try:
        python = field.to_python(value)
    except BAD_VALUE:
        return False
    return not (isinstance(python, int) and abs(python) > MAX_KEY)


class GuardedAutocompleteSelect(AutocompleteSelect):
    """Renders only the selected values that are ids of the related model; the form's own
    validation then says the choice is not valid."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.pk
        value = [v for v in value if v in (None, "") or readable(target, v)]
        return super().optgroups(name, value, attr)


class GuardedAdmin:
    """A ModelAdmin mixin (before `admin.ModelAdmin`)."""

    model: type[models.Model]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            db = kwargs.get("using")
            kwargs["widget"] = GuardedAutocompleteSelect(db_field, self.admin_site, using=db)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kept = {}
        for name, value in initial.items():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                kept[name] = value
                continue
            if isinstance(field, models.DateField | models.TimeField):
                # The split date/time widgets take only a date or time, never the URL's text.
                try:
                    value = field.to_python(value)
                except BAD_VALUE:
                    continue
                if value is None:
                    continue
            elif isinstance(field, models.ForeignKey) and not readable(field.target_field, value):
                continue
            kept[name] = value
        return kept

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(readable(self.model._meta.pk, value) for value in selected):
            self.message_user(
                request,
                "The selection held something that is not an item of this list: nothing was done.",
                messages.WARNING,
            )
            return None
        return super().response_action(request, queryset)


def guard_site(site) -> None:
    """Give every ModelAdmin registered on `site` (Django's users and groups and the login
    lockouts' included) the guards above. Called once every app's admin module has registered
    its models (campaigns' AppConfig.ready, after the admin's autodiscovery)."""
    for model, model_admin in list(site._registry.items()):
        kind = type(model_admin)
        if isinstance(model_admin, GuardedAdmin):
            continue
        site.unregister(model)
        site.register(model, type(kind.__name__, (GuardedAdmin, kind), {}))
