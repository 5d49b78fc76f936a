"""The model: all server state behind one lock (jobs, scripts, uploads, results, sites, sessions, workspaces,
the project and its policy). Knows nothing of requests or replies."""
