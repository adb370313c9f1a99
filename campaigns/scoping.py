"""Who sees what: influencers (the "Influencers" group) see only rows of their own links.

Every admin list, dashboard, chart's data and export narrows its queryset through `scope()`,
so the rule lives in one place.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet

INFLUENCERS = "Influencers"
# What a new Influencers group may view; scoping then narrows each list to their own rows.
INFLUENCER_PERMISSIONS = [
    ("analytics", "view_dashboard"),
    ("analytics", "view_referralevent"),
    ("analytics", "view_conversion"),
    ("analytics", "view_onboardingresponse"),
    ("referrals", "view_referrallink"),
    ("campaigns", "view_campaign"),
]


def is_influencer(user) -> bool:
    """Superusers are never scoped, even when someone added them to the group."""
    if not user.is_authenticated or user.is_superuser:
        return False
    cached = getattr(user, "_is_influencer", None)
    if cached is None:
        cached = user.groups.filter(name=INFLUENCERS).exists()
        user._is_influencer = cached
    return cached


def scope(queryset: QuerySet, user, influencer_path: str) -> QuerySet:
    """`queryset` as `user` may see it; `influencer_path` leads from its model to the link's
    influencer (e.g. "link__influencer"). Rows without a link are not an influencer's."""
    if not is_influencer(user):
        return queryset
    return queryset.filter(Q(**{influencer_path: user}))


def scope_answers(queryset: QuerySet, user, campaign_path: str = "campaign") -> QuerySet:
    """Onboarding answers as `user` may read them: an influencer reads none of a campaign that
    keeps answers private (the default), only progress and counts. `campaign_path` leads from
    the model to the campaign. Narrows an already `scope()`d queryset further."""
    if not is_influencer(user):
        return queryset
    return queryset.filter(**{f"{campaign_path}__influencers_see_answers": True})


def ensure_influencers_group(**kwargs) -> Group:
    """The group, created with its view permissions the first time; once it exists its
    permissions are the administrators' to change, so they are not reset on later runs."""
    group, created = Group.objects.get_or_create(name=INFLUENCERS)
    if created:
        q = Q(pk__in=[])
        for app_label, codename in INFLUENCER_PERMISSIONS:
            q |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(q))
    return group


def make_influencer(user) -> None:
    """Staff (to reach the admin) in the Influencers group (to be scoped to their links)."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_influencers_group())
    user.__dict__.pop("_is_influencer", None)


class ScopedAdminMixin:
    """For a ModelAdmin: an influencer's changelist, change views and filters see only their
    own rows. `influencer_path` leads from the model to the link's influencer."""

    influencer_path = "link__influencer"

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, self.influencer_path)
