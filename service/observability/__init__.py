"""What operators see: metrics, request ids, worker heartbeats and readiness. Nothing here imports Flask but `views`
and `web`."""
