"""A small server-rendered web UI so a person without a Discord account can walk the journey:
open an invite, accept it as a test user and land where the welcome appears, watch messages
arrive (markdown and mentions rendered; the channel list marks where something new came),
click a button, fill in the modal, and authorise — or cancel — OAuth2. Plain HTML forms that
work without JavaScript, a small inline script keeping channels current, no external assets;
every action goes through the same `World` methods as the control API.
"""

from __future__ import annotations

from aiohttp import web

from . import channels, pages


def setup(app: web.Application) -> None:
    app.router.add_get("/", pages.index)
    app.router.add_post("/users", pages.create_user)
    app.router.add_get("/invite/{code}", pages.invite_page)
    app.router.add_post("/invite/{code}", pages.accept_invite)
    app.router.add_get("/channels/{channel_id}", channels.channel_page)
    app.router.add_get("/channels/{channel_id}/live", channels.channel_live)
    app.router.add_post("/channels/{channel_id}/click", channels.click)
    app.router.add_get("/interactions/{interaction_id}/modal", channels.modal_page)
    app.router.add_post("/interactions/{interaction_id}/modal", channels.submit_modal)
    app.router.add_get("/oauth2/authorize", pages.authorize_page)
    app.router.add_post("/oauth2/authorize", pages.authorize)
