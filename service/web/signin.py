"""Who is signed in to the pages: the session cookie the sign-in sets, checked like the API checks it, and the
CSRF value every form of the pages carries in a hidden field."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Response, g, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from service.api.edge import context, session
from service.auth import login
from service.auth.models import Caller, User
from service.errors import Forbidden, Unauthorized

#: The hidden field of every form of the pages that carries the CSRF value.
CSRF_FIELD = "csrf"
#: Before sign-in there is no session: the sign-in and password forms carry this cookie's random value instead.
FORM_COOKIE = "orchestrator_form"
View = TypeVar("View", bound=Callable[..., Any])


def signed_in() -> Caller | None:
    """The caller of the session cookie, or None (no cookie, or one that ended); the person is kept in `g`."""
    if "web_caller" in g:
        return g.web_caller  # type: ignore[no-any-return]
    caller: Caller | None = None
    cookie = request.cookies.get(login.SESSION_COOKIE)
    if cookie:
        try:
            caller = login.session_caller(session(), token=cookie)
        except Unauthorized:
            caller = None
    g.web_caller = caller
    g.web_user = session().get(User, caller.id) if caller is not None else None
    return caller


def safe_next(target: str | None) -> str:
    """Where to go after the sign-in: a path of this site only (never another host, scheme or `//host`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target


def needs_sign_in(view: View) -> View:
    """A page for signed-in people: anyone else goes to the sign-in, and back here after it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if signed_in() is None:
            target = url_for("web.sign_in", next=request.full_path.rstrip("?"))
            if request.headers.get("HX-Request"):  # a refresh of part of a page: the whole page goes
                return Response(status=204, headers={"HX-Redirect": target})
            return redirect(target, 303)
        if request.method in login.UNSAFE_METHODS:
            check_csrf()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def csrf_value() -> str:
    """The value the forms of this page carry: the session's CSRF value, or before sign-in the form cookie's."""
    cookie = request.cookies.get(login.SESSION_COOKIE)
    if cookie and signed_in() is not None:
        return login.csrf_of(cookie)
    if "form_secret" not in g:
        g.form_secret = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)
    return str(g.form_secret)


def check_csrf() -> None:
    """Refuse (403) a form of a signed-in person that does not carry the session's CSRF value."""
    cookie = request.cookies.get(login.SESSION_COOKIE) or ""
    try:
        login.check_csrf(cookie, request.form.get(CSRF_FIELD))
    except Forbidden:
        raise Forbidden("the form does not carry the session's CSRF value") from None


def check_form_cookie() -> None:
    """Refuse (403) a sign-in or password form that does not carry the value of the form cookie."""
    expected = request.cookies.get(FORM_COOKIE) or ""
    offered = request.form.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(expected, offered):
        raise Forbidden("the form does not carry the value of the form cookie; reload the page")


def keep_form_cookie(response: Response) -> Response:
    """Set the form cookie when this request made its value."""
    if "form_secret" in g and request.cookies.get(FORM_COOKIE) != g.form_secret:
        secure = context().config.session_cookie_secure
        response.set_cookie(FORM_COOKIE, g.form_secret, httponly=True, secure=secure, samesite="Strict", path="/")
    return response


def set_session_cookies(response: BaseResponse, signed: login.SignedIn) -> BaseResponse:
    """The cookies of a new session, as the API's sign-in sets them."""
    secure = context().config.session_cookie_secure
    common: dict[str, Any] = {"expires": signed.expires_at, "secure": secure, "samesite": "Lax", "path": "/"}
    response.set_cookie(login.SESSION_COOKIE, signed.session_token, httponly=True, **common)
    response.set_cookie(login.CSRF_COOKIE, signed.csrf_token, httponly=False, **common)
    return response


def clear_session_cookies(response: BaseResponse) -> BaseResponse:
    """The session's cookies removed."""
    response.delete_cookie(login.SESSION_COOKIE, path="/")
    response.delete_cookie(login.CSRF_COOKIE, path="/")
    return response
