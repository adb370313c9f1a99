from django.contrib import admin

from botworker.models import InviteSnapshot


@admin.register(InviteSnapshot)
class InviteSnapshotAdmin(admin.ModelAdmin):
    """The bot's last invite snapshot per guild (stored here when there is no Redis)."""

    list_display = ["guild_id", "taken_at", "invite_count"]
    readonly_fields = ["guild_id", "taken_at", "invites"]

    @admin.display(description="invites")
    def invite_count(self, obj: InviteSnapshot) -> int:
        return len(obj.invites)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
