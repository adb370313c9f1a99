"""A referral link's QR code: its public URL tagged utm_medium=qr, so scans show as "QR code"
in the click breakdowns (the landing page records UTM parameters with every click)."""

import io
from urllib.parse import urlencode

import segno

from referrals.models import ReferralLink

QR_MEDIUM = "qr"
# Medium error correction (15 %): survives a smudged print, stays small for a ~60-character URL.
ERROR = "m"
SVG_SCALE = 4
PNG_SCALE = 10


def target(link: ReferralLink) -> str:
    """What the code encodes: the link's public URL with utm_medium=qr."""
    return f"{link.build_url()}?{urlencode({'utm_medium': QR_MEDIUM})}"


def code(link: ReferralLink) -> segno.QRCode:
    return segno.make_qr(target(link), error=ERROR)


def svg(link: ReferralLink) -> bytes:
    out = io.BytesIO()
    code(link).save(out, kind="svg", scale=SVG_SCALE, border=4, title=f"QR code: {link.title}")
    return out.getvalue()


def png(link: ReferralLink) -> bytes:
    out = io.BytesIO()
    code(link).save(out, kind="png", scale=PNG_SCALE, border=4)
    return out.getvalue()
