"""Configuration: one frozen dataclass read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    """Every setting of the service, with its environment variable, type and default.

    The environment variable of a field is its name in upper case with the prefix listed in `ENV`.
    """

    #: SQLAlchemy URL; the embedded default is a SQLite file under var/.
    database_url: str = f"sqlite:///{_ROOT / 'var' / 'orchestrator.db'}"
    #: Folders with the source of truth deployed by `orchestrator deploy`.
    processes_dir: str = str(_ROOT / "processes")
    rules_dir: str = str(_ROOT / "rules")
    #: The process key that new tickets start.
    ticket_process: str = "ticket"
    #: File store: kind ("local"), its root folder and the base of the links put into tickets and e-mails.
    file_store: str = "local"
    file_store_root: str = str(_ROOT / "var" / "files")
    file_store_base_url: str = "http://127.0.0.1:8000/files"
    #: Megabytes one file uploaded into a ticket's folder may have (`POST /tickets/{number}/files`); larger: 413.
    upload_mb: float = 8.0
    #: Mail: kind ("smtp" or "console"), SMTP server and sender.
    mailer: str = "console"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_sender: str = "service-desk@orchestrator.example"
    #: Worker: seconds between polls when idle, the lease of a job (and of a timer or SLA event being fired),
    #: attempts before an incident, base of the backoff.
    worker_poll_seconds: float = 0.5
    #: Worker loops (threads) one `orchestrator worker` runs, each claiming its own jobs and holding one database
    #: connection at a time (the pool has 15); `--concurrency` overrides.
    worker_concurrency: int = 1
    job_lease_seconds: int = 60
    job_max_attempts: int = 5
    job_backoff_seconds: float = 2.0
    #: Days a done job stays in the job table before the worker deletes it (0: deleted as soon as it is done); its
    #: `job_done` event (topic, attempts, result) stays in the ticket's history. Failed jobs stay until retried.
    job_retention_days: float = 7.0
    #: Most done jobs one worker round deletes, and seconds between two rounds that delete when the last one found
    #: fewer than that (a full batch is followed by another in the next round).
    job_purge_batch: int = 500
    job_purge_seconds: float = 10.0
    #: Topics with no adapter in the service that diagrams may still call, left to outside workers (a partner's
    #: system, the warehouse's ERP) through fetch-and-lock: a comma-separated list, `*` for any; empty: none.
    external_topics: str = ""
    #: Budget of each diagram script, condition and ${...} expression: CPU seconds (of the thread running it) and
    #: megabytes it may build; past either it stops and the step fails (an incident of the ticket). Also the size
    #: budget, in megabytes serialised, of an instance's variables.
    script_cpu_seconds: float = 1.0
    script_memory_mb: float = 32.0
    instance_data_mb: float = 4.0
    #: Seconds a process trusts its cached active ruleset versions before it looks again.
    rules_refresh_seconds: float = 1.0
    #: Seconds a process trusts its cached newest process versions (which new tickets start on) before it looks again.
    process_refresh_seconds: float = 1.0
    #: Log level of the service (DEBUG, INFO, WARNING, ERROR); the workflow library logs only from WARNING unless DEBUG.
    log_level: str = "INFO"
    #: Log lines as "json" (one object per line: time, level, logger, message, request_id and extra fields) or "text".
    log_format: str = "json"
    #: The bearer token /metrics asks for; empty: /metrics is open (serve it on an internal port only).
    metrics_token: str = ""
    #: Seconds /metrics trusts the gauges it counted in the database (open incidents, open tasks per queue, workers).
    metrics_cache_seconds: float = 5.0
    #: Seconds between two heartbeats a worker writes into the database (the readiness check and /metrics read them).
    worker_heartbeat_seconds: float = 5.0
    #: Port on which `orchestrator worker` serves its own /metrics (0: none); for a worker on another host than the web
    #: processes, which otherwise add its values up through a shared PROMETHEUS_MULTIPROC_DIR.
    worker_metrics_port: int = 0
    #: Readiness fails when no worker wrote a heartbeat within this many seconds.
    ready_worker_seconds: float = 60.0
    #: Hours a browser's sign-in (its session cookie) lasts; whether the cookies are marked Secure (HTTPS only: turn
    #: it off only to sign in over plain HTTP on a developer's machine).
    session_hours: float = 12.0
    session_cookie_secure: bool = True
    #: Days a personal or service token lasts when its creator names no expiry.
    token_days: float = 90.0
    #: Failed sign-ins, counted per username and per client address within `login_window_seconds`: from
    #: `login_throttle_after` on, each further attempt waits `login_delay_seconds`, doubled at every failure up to
    #: `login_max_delay_seconds` (429 with Retry-After); from `login_lock_after` on, the name or address is locked for
    #: `login_lock_seconds`. A successful sign-in clears the username's count.
    login_window_seconds: float = 3600.0
    login_throttle_after: int = 5
    login_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 60.0
    login_lock_after: int = 20
    login_lock_seconds: float = 900.0
    #: Hours a password-reset link works, days an invitation link works (each works once).
    reset_link_hours: float = 24.0
    invitation_link_days: float = 7.0
    #: Where people reach the service: the base of the links in password-reset and invitation mails.
    public_base_url: str = "http://127.0.0.1:8000"
    #: Whether the worker runs, in one step, the jobs a completion makes ready whose topics allow it (`CHAINABLE` in
    #: `service.jobs.topics`): the three intake jobs become one restore, one serialisation and one projection.
    job_chain: bool = True

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Config:
        """Read every field from ORCHESTRATOR_<NAME> (DATABASE_URL also plain), then apply overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            raw = env.get(f"ORCHESTRATOR_{field.name.upper()}")
            if raw is None and field.name == "database_url":
                raw = env.get("DATABASE_URL")
            if raw is None:
                continue
            values[field.name] = _convert(raw, field.type)
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _convert(raw: str, kind: object) -> object:
    if kind in (bool, "bool"):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if kind in (int, "int"):
        return int(raw)
    if kind in (float, "float"):
        return float(raw)
    return raw
