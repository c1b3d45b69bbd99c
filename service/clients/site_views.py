"""Site routes: a client's sites, each site, its history (who may: `service.auth.permissions`)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from service.api.edge import session, user
from service.api.guard import Blueprint
from service.api.versions import ETAG_HEADER, IF_MATCH, if_match, tagged
from service.clients import sites
from service.clients.site_schemas import SiteChangeSchema, SiteCreateSchema, SitePageSchema, SiteSchema
from service.directory.schemas import HistoryPageSchema, ListArgsSchema, search_terms
from service.paging import PageArgs

blp = Blueprint(
    "sites", __name__, url_prefix="/clients", description="The addresses of a client where its equipment stands."
)


@blp.route("/<code>/sites")
class Sites(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, SitePageSchema)
    def get(self, args: dict[str, Any], code: str) -> Any:
        """A page of the client's sites by code; `q` finds a code, a name, an address or a city."""
        return sites.list_sites(
            session(),
            user=user(),
            client=code,
            q=search_terms(args),
            active=args.get("active"),
            cursor=args.get("cursor"),
            page_size=args["page_size"],
        )

    @blp.arguments(SiteCreateSchema)
    @blp.response(201, SiteSchema, headers=ETAG_HEADER)
    def post(self, body: dict[str, Any], code: str) -> Any:
        """Create a site of the client."""
        return tagged(sites.create_site(session(), user=user(), client=code, data=body), 201)


@blp.route("/<code>/sites/<site>")
class Site(MethodView):
    @blp.response(200, SiteSchema, headers=ETAG_HEADER)
    def get(self, code: str, site: str) -> Any:
        """One site, with its version in `ETag`."""
        return tagged(sites.get_site(session(), user=user(), client=code, code=site))

    @blp.doc(parameters=[IF_MATCH])
    @blp.arguments(SiteChangeSchema)
    @blp.response(200, SiteSchema, headers=ETAG_HEADER)
    def patch(self, body: dict[str, Any], code: str, site: str) -> Any:
        """Change a site from the version in `If-Match`; `{"active": false}` deactivates it."""
        changed = sites.update_site(session(), user=user(), client=code, code=site, changes=body, if_match=if_match())
        return tagged(changed)

    @blp.doc(parameters=[IF_MATCH])
    @blp.response(204)
    def delete(self, code: str, site: str) -> None:
        """Delete a site no equipment stands at; 409 names what refers to it (deactivate it instead)."""
        sites.delete_site(session(), user=user(), client=code, code=site, if_match=if_match())


@blp.route("/<code>/sites/<site>/history")
class SiteHistory(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, HistoryPageSchema)
    def get(self, args: dict[str, Any], code: str, site: str) -> Any:
        """Every change of the site: who, when, before and after."""
        return sites.site_history(
            session(), user=user(), client=code, code=site, cursor=args.get("cursor"), page_size=args["page_size"]
        )
