"""Team routes: the list, each team, its history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.directory.schemas import HistoryPageSchema, ListArgsSchema, search_terms
from service.paging import PageArgs
from service.teams import services
from service.teams.schemas import TeamChangeSchema, TeamCreateSchema, TeamPageSchema, TeamSchema

blp = Blueprint("teams", __name__, url_prefix="/teams", description="Product teams and their queues.")


@blp.route("")
class Teams(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, TeamPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """A page of teams by code; `q` finds a code, a name or an equipment class."""
        return services.list_teams(
            session(),
            user=user(),
            q=search_terms(args),
            active=args.get("active"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(TeamCreateSchema)
    @blp.response(201, TeamSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any]) -> Any:
        """Create a team with its queues `<code>-L1`, `<code>-L2`, `<code>-L3`."""
        return tagged(services.create_team(session(), user=user(), data=body), 201)


@blp.route("/<code>")
class Team(MethodView):
    @blp.response(200, TeamSchema, headers=ETAG_HEADER)
    def get(self, code: str) -> Any:
        """One team, with its version in `ETag`."""
        return tagged(services.get_team(session(), user=user(), code=code))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(TeamChangeSchema)
    @blp.response(200, TeamSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], code: str) -> Any:
        """Change a team from the version in `If-Match`; `{"active": false}` deactivates it (409 while it holds open
        tasks)."""
        return tagged(services.update_team(session(), user=user(), code=code, changes=body, if_match=if_match()))

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, code: str) -> None:
        """Delete a team with its queues; 409 while it holds open tasks, or naming its members and tickets."""
        services.delete_team(session(), user=user(), code=code, if_match=if_match())


@blp.route("/<code>/history")
class TeamHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """Every change of the team: who, when, before and after."""
        return services.team_history(
            session(), user=user(), code=code, cursor=args.get("cursor"), page_size=args["page_size"]
        )
