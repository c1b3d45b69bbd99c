"""Every blueprint of the API, in the order the OpenAPI document lists them."""

from service.processes.views import blp as processes
from service.tasks.views import blp as tasks
from service.tickets.views import blp as tickets

BLUEPRINTS = [tickets, tasks, processes]
