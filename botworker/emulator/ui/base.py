"""What every page of the local Discord's UI shares: the frame, the style, the live script, the
test-user picker."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from .. import models
from ..rest.common import EMULATOR

if TYPE_CHECKING:
    from ..server import Emulator

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f2f3f5;color:#1e1f22}
header{background:#5865f2;color:#fff;padding:.6rem 1.2rem}header a{color:#fff}
.frame{display:flex;gap:1rem;max-width:60rem;margin:1.2rem auto;align-items:flex-start}
nav{min-width:11rem;background:#fff;border-radius:8px;padding:.6rem 1rem}
nav ul{list-style:none;padding:0;margin:0}nav li a{display:block;padding:.15rem 0}
nav a.current{font-weight:700}nav a.new::after{content:" ●";color:#da373c}
nav a.new{font-weight:700;color:#1e1f22}
main{flex:1;max-width:46rem;margin:0 auto;background:#fff;padding:1.2rem 1.6rem;border-radius:8px}
.msg{border-top:1px solid #e3e5e8;padding:.6rem 0}.author{font-weight:600}
.eph{background:#eef0ff;padding:.4rem;border-radius:4px}.muted{color:#5c5e66;font-size:.85em}
.mention{background:#e6e8fd;color:#4752c4;border-radius:3px;padding:0 .15rem;font-weight:500}
.spoiler{background:#1e1f22;color:#1e1f22}.spoiler:hover{color:#fff}
code,pre{background:#f2f3f5;border-radius:3px;padding:0 .2rem;font-size:.9em}
button{background:#5865f2;color:#fff;border:0;border-radius:4px;padding:.35rem .9rem;cursor:pointer}
button.s2{background:#4e5058}button.s3{background:#248046}button.s4{background:#da373c}
input,select,textarea{font:inherit;padding:.3rem;width:100%;box-sizing:border-box}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}.error{color:#da373c}
form.inline{display:inline}
"""

# Progressive enhancement (every page works without it): every second, asks the channel's
# live endpoint for its messages and each channel's latest message id; swaps the messages in
# when they changed (new, edited, an interaction's reply) and marks a channel in the list with
# "●" when a message newer than the last one seen there arrived ("seen" is kept per browser).
# A button press is posted in the background: the page stays, the reply comes in as above, a
# modal opens as its own page, and "This interaction failed" shows in #notice.
LIVE_SCRIPT = """
(function(){
  var box=document.getElementById('messages'), nav=document.querySelector('nav');
  var notice=document.getElementById('notice'), live=document.body.dataset.live;
  if(!live) return;
  var seen=JSON.parse(localStorage.getItem('seen')||'{}'), here=document.body.dataset.channel;
  function newer(a,b){return !b||a.length>b.length||(a.length==b.length&&a>b);}
  function poll(){
    return fetch(live,{cache:'no-store'}).then(function(r){return r.ok?r.json():null;})
    .then(function(d){
      if(!d) return;
      if(box&&d.version!==box.dataset.version){box.innerHTML=d.html;box.dataset.version=d.version;}
      Object.keys(d.latest).forEach(function(c){
        var id=d.latest[c], a=nav&&nav.querySelector('a[data-channel="'+c+'"]');
        if(c===here||!(c in seen)) seen[c]=id;
        if(a) a.classList.toggle('new', c!==here && newer(id, seen[c]));
      });
      localStorage.setItem('seen',JSON.stringify(seen));
    }).catch(function(){});
  }
  (function loop(){poll().finally(function(){setTimeout(loop,1000);});})();
  document.addEventListener('submit',function(e){
    var form=e.target;
    if(!box||!box.contains(form)) return;
    e.preventDefault();
    if(notice) notice.textContent='';
    fetch(form.action,{method:'POST',body:new URLSearchParams(new FormData(form))})
    .then(function(r){
      if(r.url.indexOf('/modal')>=0){location.href=r.url;return;}
      var said=new URL(r.url).searchParams.get('notice');
      if(said&&notice) notice.textContent=said;
      return poll();
    }).catch(function(){form.submit();});
  });
})();
"""


def emu_of(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


def page(
    title: str,
    body: str,
    status: int = 200,
    *,
    nav: str = "",
    live: str = "",
    channel_id: str = "",
) -> web.Response:
    """A page; with `live` (a live endpoint's URL) it keeps its messages and `nav` current."""
    data = f" data-live='{escape(live)}' data-channel='{escape(channel_id)}'" if live else ""
    frame = f"<div class=frame>{nav}<main>{body}</main></div>" if nav else f"<main>{body}</main>"
    script = f"<script>{LIVE_SCRIPT}</script>" if live else ""
    html = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style><body{data}><header><a href='/'>Local Discord</a> · "
        f"{escape(title)}</header>{frame}{script}</body></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)


def channel_nav(emu: Emulator, guild_id: str, current: str = "", viewer: str = "") -> str:
    """The guild's text channels, each link marked by the live script when something new came."""
    guild = emu.world.guilds[guild_id]
    suffix = escape(f"?{urlencode({'as': viewer})}") if viewer else ""
    items = "".join(
        f"<li><a href='/channels/{cid}{suffix}' data-channel='{cid}'"
        f"{' class=current' if cid == current else ''}>"
        f"#{escape(emu.world.channels[cid].name or '')}</a></li>"
        for cid in guild.channel_ids
    )
    return f"<nav><strong>{escape(guild.name)}</strong><ul>{items}</ul></nav>"


def humans(emu: Emulator) -> list[models.User]:
    return [u for u in emu.world.users.values() if not u.bot]


def option(user: models.User, selected: str | None) -> str:
    chosen = " selected" if user.id == selected else ""
    return f"<option value='{user.id}'{chosen}>{escape(user.username)}</option>"


def user_picker(
    emu: Emulator, selected: str | None = None, *, exclude: set[str] = frozenset()
) -> str:
    options = "".join(option(u, selected) for u in humans(emu) if u.id not in exclude)
    return (
        "<label for=user_id>Test user</label><select name=user_id id=user_id>"
        f"<option value=''>(a new test user)</option>{options}</select>"
        "<label for=username>Name for a new user (optional)</label>"
        "<input name=username id=username maxlength=32>"
    )


async def picked_user(emu: Emulator, form: Any) -> str:
    return str(form.get("user_id") or "") or emu.create_user(form.get("username") or None).id
