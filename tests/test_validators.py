"""ETags of rewritten pages (gatekeeper/validators.py): what the app's tag becomes, and which of ours an
If-None-Match may carry back to the app."""

import pytest

from gatekeeper.once import OnceGrant
from gatekeeper.validators import consent_digest, if_none_match, rewritten_etag

D = consent_digest(("all",), None, "en", "/")
OTHER = consent_digest(("none",), None, "en", "/")


@pytest.mark.parametrize(
    ("etag", "ours"),
    [
        ('"v1"', f'W/"v1-gks{D}"'),
        ('W/"v1"', f'W/"v1-gkw{D}"'),
        ('""', f'W/"-gks{D}"'),
        ('"a-gks0123"', f'W/"a-gks0123-gks{D}"'),
        ("", None),
        ("v1", None),  # no entity tag: left as the app wrote it
        ('"', None),
        ('W/"', None),
    ],
)
def test_the_app_tag_becomes_weak_and_marked(etag, ours):
    assert rewritten_etag(etag, D) == ours


@pytest.mark.parametrize("etag", ['"v1"', 'W/"v1"', '"with,comma"', '""'])
def test_our_tag_goes_back_to_the_app_as_it_wrote_it_for_the_same_consent_only(etag):
    ours = rewritten_etag(etag, D)
    assert ours is not None
    assert if_none_match(ours.encode(), D) == etag.encode()
    assert if_none_match(ours.encode(), OTHER) is None
    assert if_none_match(b'"app", ' + ours.encode(), OTHER) == b'"app"'


@pytest.mark.parametrize(
    "value",
    [b"*", b'"plain"', b'W/"weak"', b'"a", W/"b"', b'W/"x-gkz0123456789ab"', b'"' + b"-gk" * 3000 + b'"'],
)
def test_tags_that_are_not_ours_pass_unchanged(value):
    assert if_none_match(value, D) == b", ".join(t.strip() for t in value.split(b","))


def test_the_digest_changes_with_each_thing_the_page_depends_on():
    base = (("all",), None, "en", "/a")
    variants = [
        (("none",), None, "en", "/a"),
        (("all",), OnceGrant("youtube", 0), "en", "/a"),
        (("all",), OnceGrant("youtube", 1), "en", "/a"),
        (("all",), None, "ja", "/a"),
        (("all",), None, "en", "/a?x=1"),
    ]
    digests = {consent_digest(*v) for v in [base, *variants]}
    assert len(digests) == 1 + len(variants)
    assert all(len(d) == 12 and int(d, 16) >= 0 for d in digests)
