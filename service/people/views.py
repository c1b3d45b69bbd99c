"""People routes: the list, each person, their history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match
from service.directory.records import etag
from service.directory.schemas import HistoryPageSchema, search_terms
from service.paging import PageArgs
from service.people import services
from service.people.schemas import UserChangeSchema, UserCreateSchema, UserListArgsSchema, UserPageSchema, UserSchema

blp = Blueprint("users", __name__, url_prefix="/users", description="People: staff, partner engineers, client users.")


def _tagged(person: services.Person, status: int = 200) -> tuple[Any, int, dict[str, str]]:
    return person, status, {"ETag": etag(person.record)}


@blp.route("")
class Users(MethodView):
    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of people by username; `q` finds a username, a name or an e-mail address."""
        where = services.UserFilter(
            q=search_terms(args),
            role=args.get("role"),
            group=args.get("group"),
            client=args.get("client"),
            active=args.get("active"),
        )
        return services.list_people(
            session(), user=user(), where=where, cursor=args.get("cursor"), page_size=args["page_size"]
        )

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a person (no password: they sign in once given one, or a token)."""
        return _tagged(services.create_person(session(), user=user(), data=body), 201)


@blp.route("/<username>")
class User(MethodView):
    @blp.response(200, UserSchema, headers=ETAG_HEADER)
    def get(self, username: str) -> Any:
        """One person, with their version in `ETag`."""
        return _tagged(services.get_person(session(), user=user(), username=username))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(UserChangeSchema)
    @blp.response(200, UserSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], username: str) -> Any:
        """Change a person from the version in `If-Match`; `{"active": false}` deactivates them and ends every
        token and session they hold at once."""
        person = services.update_person(session(), user=user(), username=username, changes=body, if_match=if_match())
        return _tagged(person)


@blp.route("/<username>/history")
class UserHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], username: str) -> Any:
        """Every change of the person: who, when, before and after (never a password)."""
        return services.person_history(
            session(), user=user(), username=username, cursor=args.get("cursor"), page_size=args["page_size"]
        )
