"""Portal sessions live in the store: a restart keeps them, sign-out ends them everywhere, and the
store holds nothing usable without the browser's cookie. Driven over plain HTTP as a browser
drives the portal's sign-in (redirects followed by hand, cookies carried explicitly), so one
sign-in can be split between replicas (tests/test_postgres_replicas.py uses `portal_sign_in`).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from urllib.parse import parse_qsl

import requests

from mimic_harness import MimicServer

SESSION_COOKIE = "mimic_portal_session"
SIGNIN_COOKIE = "mimic_portal_signin"
SUBSCRIPTIONS = "/api/arm/subscriptions?api-version=2022-12-01"


def browser(mimic: MimicServer) -> requests.Session:
    """A cookie-less HTTP client trusting Mimic's CA: every cookie in these tests is passed by hand."""
    s = requests.Session()
    s.trust_env = False
    s.verify = str(mimic.ca_path)
    return s


def portal_callback(start: MimicServer, finish: MimicServer | None = None) -> requests.Response:
    """The portal's OIDC sign-in as a browser performs it: `/signin` on `start`, the sign-in page
    and form, then the callback on `finish` (default `start`); returns the callback's answer."""
    finish = finish or start
    b = browser(start)
    r = b.get(start.portal_url + "/signin", allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text
    state = r.cookies[SIGNIN_COOKIE]
    authorize = r.headers["Location"]
    assert authorize.startswith(start.login_url), authorize
    page = b.get(authorize, allow_redirects=False, timeout=30)
    assert page.status_code == 200 and "Sign in" in page.text, page.text
    url, _, query = authorize.partition("?")
    r = b.post(url, data={**dict(parse_qsl(query)), "login": start.admin["userName"], "passwd": start.admin["password"]},
               allow_redirects=False, timeout=60)
    assert r.status_code == 302, r.text
    callback = r.headers["Location"]
    assert callback.startswith(start.portal_url + "/signin-oidc?"), callback
    callback = finish.portal_url + callback[len(start.portal_url):]
    return browser(finish).get(callback, cookies={SIGNIN_COOKIE: state}, allow_redirects=False, timeout=60)


def portal_sign_in(start: MimicServer, finish: MimicServer | None = None) -> str:
    """A completed sign-in (see `portal_callback`); returns the session cookie."""
    r = portal_callback(start, finish)
    assert r.status_code == 302 and r.headers["Location"] == "/", r.text
    return r.cookies[SESSION_COOKIE]


def portal_get(mimic: MimicServer, session: str, path: str) -> requests.Response:
    return browser(mimic).get(mimic.portal_url + path, cookies={SESSION_COOKIE: session}, timeout=60)


def signed_in_as(mimic: MimicServer, session: str) -> str | None:
    """The user name `/api/me` reports, or None when the portal answers 401 NotSignedIn."""
    r = portal_get(mimic, session, "/api/me")
    if r.status_code == 401:
        assert r.json()["error"]["code"] == "NotSignedIn", r.text
        return None
    assert r.status_code == 200, r.text
    return r.json()["userPrincipalName"]


def test_a_restart_keeps_portal_sessions_and_sign_out_ends_them(mimic: MimicServer):
    session = portal_sign_in(mimic)
    other = portal_sign_in(mimic)
    user = mimic.admin["userName"]
    assert signed_in_as(mimic, session) == user
    mimic.restart()
    assert signed_in_as(mimic, session) == user, "the session outlives the process"
    # The first Graph call after the restart refreshes the session's tokens and stores them back.
    r = portal_get(mimic, session, "/api/graph/v1.0/me")
    assert r.status_code == 200 and r.json()["userPrincipalName"].lower() == user.lower(), r.text
    r = portal_get(mimic, session, SUBSCRIPTIONS)
    assert r.status_code == 200 and [s["subscriptionId"] for s in r.json()["value"]] == [mimic.subscription_id], r.text

    r = browser(mimic).post(mimic.portal_url + "/signout", cookies={SESSION_COOKIE: session}, headers={"X-Mimic-Portal": "1"},
                            allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert signed_in_as(mimic, session) is None
    assert portal_get(mimic, session, SUBSCRIPTIONS).status_code == 401
    assert signed_in_as(mimic, other) == user, "signing one browser out leaves the others signed in"


def test_the_store_holds_no_usable_cookie_or_token(mimic: MimicServer):
    """Sessions are filed under the cookie's SHA-256 and sealed under a key derived from it: the
    database holds neither the cookie nor a token (a JWT's `eyJ` prefix) in clear."""
    session = portal_sign_in(mimic)
    assert portal_get(mimic, session, "/api/graph/v1.0/me").status_code == 200  # tokens refreshed and stored
    db = sqlite3.connect(mimic.data_dir / "mimic.db")
    try:
        rows = db.execute("SELECT id, doc FROM documents WHERE kind = 'portal_session'").fetchall()
    finally:
        db.close()
    assert rows, "the session is in the store"
    for key, doc in rows:
        assert session not in key and session not in doc
        stored = json.loads(doc)
        assert set(stored) == {"expires", "sealed"}, stored
        assert b"eyJ" not in base64.urlsafe_b64decode(stored["sealed"] + "=" * (-len(stored["sealed"]) % 4)), "no JWT in clear"


def test_a_forged_or_unknown_cookie_is_not_signed_in(mimic: MimicServer):
    assert signed_in_as(mimic, "forged") is None
    assert signed_in_as(mimic, "x" * 43) is None
    r = browser(mimic).get(mimic.portal_url + "/signin-oidc?code=c&state=unknown", cookies={SIGNIN_COOKIE: "unknown"}, timeout=30)
    assert r.status_code == 400 and "expired" in r.text
