"""Every blueprint of the API, in the order the OpenAPI document lists them."""

from service.auth.views import blp as auth
from service.clients.contact_views import blp as contacts
from service.clients.site_views import blp as sites
from service.clients.views import blp as clients
from service.contracts.views import blp as contracts
from service.equipment.views import blp as equipment
from service.imports.views import blp as imports
from service.jobs.external_views import blp as external_tasks
from service.observability.views import health
from service.people.views import blp as people
from service.prices.views import blp as prices
from service.prices.views import contracts as one_off_contracts
from service.processes.views import blp as processes
from service.rulesets.views import blp as rulesets
from service.sla.views import blp as sla
from service.sla.visit_views import blp as visits
from service.tasks.saved_filter_views import blp as saved_filters
from service.tasks.views import blp as tasks
from service.teams.views import blp as teams
from service.tickets.file_views import blp as ticket_files
from service.tickets.views import blp as tickets

BLUEPRINTS = [
    tickets,
    tasks,
    processes,
    rulesets,
    sla,
    auth,
    clients,
    sites,
    contacts,
    equipment,
    contracts,
    teams,
    people,
    prices,
    one_off_contracts,
    imports,
    health,
    ticket_files,
    visits,
    external_tasks,
    saved_filters,
]
