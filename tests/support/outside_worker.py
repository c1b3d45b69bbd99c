"""A small outside worker, as a partner's system would run one: it long-polls the service's fetch-and-lock for one
topic, "does" each task (it reads the ticket's folder link and makes up a reference) and completes it with
variables, until it has completed `--tasks` tasks. Run as `python tests/support/outside_worker.py`; its token comes
from the environment (ORCHESTRATOR_WORKER_TOKEN), never the command line."""

from __future__ import annotations

import argparse
import os
import sys
import time

import requests


def main() -> int:
    """Fetch, do and complete tasks until enough are done or the deadline passes; 0 when all were done."""
    parser = argparse.ArgumentParser()
    parser.add_argument("base", help="the service, e.g. http://127.0.0.1:8000")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--worker-id", required=True)
    parser.add_argument("--tasks", type=int, default=1, help="how many tasks to complete before it stops")
    parser.add_argument("--deadline", type=float, default=60.0, help="seconds after which it gives up")
    args = parser.parse_args()
    api = f"{args.base}/api/v1/external-tasks"
    headers = {"Authorization": f"Bearer {os.environ['ORCHESTRATOR_WORKER_TOKEN']}"}
    give_up_at = time.monotonic() + args.deadline
    done = 0
    while done < args.tasks and time.monotonic() < give_up_at:
        body = {
            "workerId": args.worker_id,
            "maxTasks": 1,
            "asyncResponseTimeout": 5000,
            "topics": [{"topicName": args.topic, "lockDuration": 30000, "variables": ["folder_url"]}],
        }
        fetched = requests.post(f"{api}/fetch-and-lock", json=body, headers=headers, timeout=30)
        fetched.raise_for_status()
        for task in fetched.json():
            folder = task["variables"].get("folder_url", {}).get("value")
            variables = {
                "partner_ref": {"value": f"P-{task['businessKey']}", "type": "String"},
                "partner_saw_folder": {"value": bool(folder), "type": "Boolean"},
            }
            completed = requests.post(
                f"{api}/{task['id']}/complete",
                json={"workerId": args.worker_id, "variables": variables},
                headers=headers,
                timeout=30,
            )
            completed.raise_for_status()
            done += 1
            print(f"completed {task['id']} of {task['businessKey']}", flush=True)
    return 0 if done >= args.tasks else 1


if __name__ == "__main__":
    sys.exit(main())
