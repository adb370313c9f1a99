"""The commands that drive the local Discord or the simulator (demo_data, demo_activity,
rundemo, discord_emulator, simulate). `botworker.emulator` and `botworker.simulation` stay in
the repository for tests and the demo but are not installed with the package, so from a wheel
these commands stop with one line saying so instead of a traceback."""

from django.core.management.base import CommandError

MISSING = (
    "{command} needs the local Discord and the simulator (botworker.emulator, "
    "botworker.simulation), which are not installed with the package: run it from a checkout "
    "of the repository after `make install`."
)


def require(module: object, command: str) -> None:
    """Stop `command` with one line when the development-only module it imported is absent."""
    if module is None:
        raise CommandError(MISSING.format(command=command))
