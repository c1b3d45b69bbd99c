"""The browser workspace: server-rendered pages over the same services as the API, at `/` (the API stays at
`/api/v1`)."""
