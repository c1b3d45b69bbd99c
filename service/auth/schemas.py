"""The sign-in contract: signing in, tokens, password resets and invitations."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.directory.schemas import page_of
from service.fields import Line, Moment

#: Longer than any password a person types; argon2 takes any length, the limit only bounds the work per request.
MAX_PASSWORD = 1000


class LoginSchema(Schema):
    """A username and password; `token: true` asks for a bearer token as well."""

    username = Line(max_length=80, required=True)
    password = fields.String(required=True, validate=validate.Length(max=MAX_PASSWORD))
    token = fields.Boolean(load_default=False, metadata={"description": "Also answer a personal bearer token."})
    token_name = Line(max_length=120, load_default="", metadata={"description": "The name of that token."})


class SignedInSchema(Schema):
    """Who signed in, the CSRF value every change made with the session cookie sends, and the token if asked."""

    username = fields.String(attribute="user.username")
    display_name = fields.String(attribute="user.display_name")
    roles = fields.Function(lambda signed: sorted(signed.user.role_set), metadata={"description": "The roles."})
    language = fields.String(attribute="user.language")
    time_zone = fields.String(attribute="user.time_zone")
    csrf_token = fields.String(metadata={"description": "Send it as X-CSRF-Token with every change by cookie."})
    expires_at = fields.DateTime(metadata={"description": "When the session ends."})
    token = fields.String(allow_none=True, metadata={"description": "The bearer token, shown this once."})


class TokenSchema(Schema):
    """A session or token of the caller (never its secret)."""

    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"description": "session, personal, service or cli."})
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)


TokenPageSchema = page_of(TokenSchema, "TokenPage")


class TokenCreateSchema(Schema):
    """A new token: its name and when it expires (by default after `ORCHESTRATOR_TOKEN_DAYS`)."""

    name = Line(max_length=120, required=True, min_length=1)
    expires_at = Moment()
    expires_in_days = fields.Float(validate=validate.Range(min=0, min_inclusive=False, max=3650))
    user = Line(max_length=80, metadata={"description": "An administrator: the service account the token is for."})

    @validates_schema
    def _one_expiry(self, data: dict[str, object], **_kwargs: object) -> None:
        if "expires_at" in data and "expires_in_days" in data:
            raise ValidationError("give expires_at or expires_in_days, not both", "expires_at")


class TokenCreatedSchema(Schema):
    """A new token with its secret, which is shown this once."""

    id = fields.Integer(attribute="row.id")
    name = fields.String(attribute="row.name")
    kind = fields.String(attribute="row.kind", metadata={"description": "personal or service."})
    username = fields.String(attribute="row.user.username", metadata={"description": "Whose token it is."})
    created_at = fields.DateTime(attribute="row.created_at")
    expires_at = fields.DateTime(attribute="row.expires_at")
    token = fields.String(attribute="secret", metadata={"description": "The bearer token, shown this once."})


class PasswordResetSchema(Schema):
    """Who asks for a reset link: their username or e-mail address."""

    login = Line(max_length=254, required=True, metadata={"description": "A username or an e-mail address."})


class PasswordConfirmSchema(Schema):
    """The secret of a mailed link and the new password."""

    token = Line(max_length=200, required=True)
    password = fields.String(required=True, validate=validate.Length(max=MAX_PASSWORD))


class InvitationCreateSchema(Schema):
    """The account to invite (one without a password)."""

    username = Line(max_length=80, required=True)


class InvitationSchema(Schema):
    """An invitation on its way."""

    username = fields.String()
    expires_at = fields.DateTime()


class LoggedOutSchema(Schema):
    """What signing out everywhere ended."""

    ended = fields.Integer(metadata={"description": "How many sessions and tokens of the caller ended."})
