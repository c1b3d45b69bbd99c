"""Sign-in routes: signing in and out, the caller's tokens, password resets and invitations."""

from __future__ import annotations

from typing import Any

from flask import Response, after_this_request, request
from flask.views import MethodView

from service.api.edge import context, session, user
from service.api.guard import Blueprint
from service.auth import links, login
from service.auth.schemas import (
    InvitationCreateSchema,
    InvitationSchema,
    LoggedOutSchema,
    LoginSchema,
    PasswordConfirmSchema,
    PasswordResetSchema,
    SignedInSchema,
    TokenCreatedSchema,
    TokenCreateSchema,
    TokenPageSchema,
)
from service.auth.services import bearer
from service.paging import PageArgs

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Signing in, tokens, password resets.")
#: Problems public routes answer besides those every route may (the contract lists them by component name).
LOGIN_REFUSALS = {"401": "UNAUTHORIZED", "422": "UNPROCESSABLE_ENTITY", "429": "TOO_MANY_REQUESTS"}
LOGOUT_REFUSALS = {"403": "FORBIDDEN"}
CONFIRM_REFUSALS = {"422": "UNPROCESSABLE_ENTITY"}


def _cookies(signed: login.SignedIn) -> None:
    secure = context().config.session_cookie_secure

    @after_this_request
    def _set(response: Response) -> Response:
        common: dict[str, Any] = {"expires": signed.expires_at, "secure": secure, "samesite": "Lax", "path": "/"}
        response.set_cookie(login.SESSION_COOKIE, signed.session_token, httponly=True, **common)
        response.set_cookie(login.CSRF_COOKIE, signed.csrf_token, httponly=False, **common)
        return response


@blp.route("/login")
class Login(MethodView):
    @blp.doc(responses=LOGIN_REFUSALS)
    @blp.arguments(LoginSchema)
    @blp.response(200, SignedInSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Sign in: sets the session cookie (and a CSRF cookie); `token: true` also answers a bearer token."""
        signed = login.login(session(), config=context().config, address=request.remote_addr or "", **body)
        _cookies(signed)
        return signed


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(responses=LOGOUT_REFUSALS)
    @blp.response(204)
    def post(self) -> None:
        """End the session of the cookie, or the bearer token sent (a cookie's needs its X-CSRF-Token)."""
        token = bearer(request.headers.get("Authorization"))
        if token is None:
            token = request.cookies.get(login.SESSION_COOKIE)
            if token:
                login.check_csrf(token, request.headers.get(login.CSRF_HEADER))
        if token:
            login.logout(session(), token=token)

        @after_this_request
        def _clear(response: Response) -> Response:
            response.delete_cookie(login.SESSION_COOKIE, path="/")
            response.delete_cookie(login.CSRF_COOKIE, path="/")
            return response


@blp.route("/logout-all")
class LogoutEverywhere(MethodView):
    @blp.response(200, LoggedOutSchema)
    def post(self) -> dict[str, int]:
        """End every session and token of the caller, the one of this request among them ("sign out everywhere")."""
        ended = login.logout_everywhere(session(), user=user())

        @after_this_request
        def _clear(response: Response) -> Response:
            response.delete_cookie(login.SESSION_COOKIE, path="/")
            response.delete_cookie(login.CSRF_COOKIE, path="/")
            return response

        return {"ended": ended}


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, TokenPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The caller's own sessions and tokens (never their secrets)."""
        return login.list_tokens(session(), user=user(), cursor=args.get("cursor"), page_size=args["page_size"])

    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """A personal token of the caller; an administrator naming `user` makes a service account's token."""
        return login.create_token(
            session(),
            user=user(),
            config=context().config,
            name=body["name"],
            expires_at=body.get("expires_at"),
            expires_in_days=body.get("expires_in_days"),
            for_user=body.get("user"),
        )


@blp.route("/tokens/<int:token_id>")
class Token(MethodView):
    @blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke one of the caller's own sessions or tokens; another's is not found."""
        login.revoke_token(session(), user=user(), token_id=token_id)


@blp.route("/password-reset")
class PasswordReset(MethodView):
    @blp.doc(responses=CONFIRM_REFUSALS)
    @blp.arguments(PasswordResetSchema)
    @blp.response(202)
    def post(self, body: dict[str, Any]) -> None:
        """Mail a single-use reset link to the user with that username or e-mail; 202 whether there is one or not."""
        links.request_reset(session(), config=context().config, login=body["login"])


@blp.route("/password-reset/confirm")
class PasswordConfirm(MethodView):
    @blp.doc(responses=CONFIRM_REFUSALS)
    @blp.arguments(PasswordConfirmSchema)
    @blp.response(204)
    def post(self, body: dict[str, Any]) -> None:
        """Set the password of a reset or invitation link (once); every session and token of the person ends."""
        links.confirm(session(), token=body["token"], password=body["password"])


@blp.route("/invitations")
class Invitations(MethodView):
    @blp.arguments(InvitationCreateSchema)
    @blp.response(202, InvitationSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Mail a single-use link to set a first password to an account that has none (a client's user)."""
        return links.invite(session(), user=user(), config=context().config, username=body["username"])
