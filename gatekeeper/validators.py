"""Response start, validators: a rewritten page depends on the visitor's consent, so its ETag carries a
digest of what it depends on, and a conditional request gets a 304 only for the same consent.

Pure functions over header values; the middleware calls them where the request comes in
(`if_none_match`) and where a page's bytes become ours (`rewritten_etag`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from .once import OnceGrant

__all__ = ["consent_digest", "if_none_match", "rewritten_etag"]

# W/"<the app's tag>-gk<s|w: the app's strength><digest>"
_OUR_ETAG: Final = re.compile(rb'W/"(?P<tag>.*)-gk(?P<strength>[sw])(?P<digest>[0-9a-f]{12})"')
# one member of an If-None-Match list: an entity tag (a comma inside its quotes is its own), or else
# whatever stands up to the next comma
_MEMBER: Final = re.compile(rb'(?:W/)?"[^"]*"(?=[ \t]*(?:,|$))|[^,\s][^,]*')


def consent_digest(consent_key: object, once: OnceGrant | None, lang: str, next_path: str) -> str:
    """What a rewritten page depends on besides the app's bytes: the consent, a "load once", the
    language of the snippets and the path their forms return to."""
    loaded = (once.service, once.embed) if once is not None else None
    key = repr((consent_key, loaded, lang, next_path))
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


def if_none_match(value: bytes, digest: str) -> bytes | None:
    """An If-None-Match header for the app: our tags made for this digest go back to the app's own
    form, ours for another consent are dropped (None: nothing is left of the header)."""
    tags = []
    for member in _MEMBER.finditer(value):
        tag = member.group(0).strip()
        ours = _OUR_ETAG.fullmatch(tag)
        if ours is None:
            tags.append(tag)
        elif ours["digest"] == digest.encode():
            weak = b"W/" if ours["strength"] == b"w" else b""
            tags.append(weak + b'"' + ours["tag"] + b'"')
    return b", ".join(tags) if tags else None


def rewritten_etag(etag: str, digest: str) -> str | None:
    """The ETag of the rewritten page: weak, since the bytes are ours now, and marked with the app's
    own strength and the digest; None when the app's is no entity tag."""
    tag = etag[2:] if etag.startswith("W/") else etag
    if len(tag) < 2 or tag[0] != '"' or tag[-1] != '"':
        return None
    strength = "w" if etag.startswith("W/") else "s"
    return f'W/"{tag[1:-1]}-gk{strength}{digest}"'
