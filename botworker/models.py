"""What the bot persists when there is no Redis: its last invite snapshot per guild."""

from django.db import models


class InviteSnapshot(models.Model):
    guild_id = models.CharField(max_length=20, primary_key=True)
    taken_at = models.DateTimeField()
    # [{"code", "uses", "max_uses", "expires_at"}]: the guild's invites when it was taken.
    invites = models.JSONField(default=list)
    # Joins decided but not recorded (the database was unavailable), as `record_join`'s
    # keyword arguments: recorded when it is back, or by the next start.
    unrecorded = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.guild_id} @ {self.taken_at:%Y-%m-%d %H:%M:%S}"
