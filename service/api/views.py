"""Every blueprint of the API, in the order the OpenAPI document lists them."""

from service.auth.views import blp as auth
from service.clients.views import blp as clients
from service.observability.views import health
from service.processes.views import blp as processes
from service.rulesets.views import blp as rulesets
from service.sla.views import blp as sla
from service.tasks.views import blp as tasks
from service.tickets.views import blp as tickets

BLUEPRINTS = [tickets, tasks, processes, rulesets, sla, clients, auth, health]
