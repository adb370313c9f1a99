"""Our local Discord: an emulator of Discord's REST API, Gateway and OAuth2 for tests and the demo.

`from botworker.emulator import Emulator` — imported lazily so that importing the package (e.g.
for `defaults`) does not pull in aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import Emulator, EmulatorThread

__all__ = ["Emulator", "EmulatorThread"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import server

        return getattr(server, name)
    raise AttributeError(name)
