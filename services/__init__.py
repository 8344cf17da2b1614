"""Use cases that span kb and indexer (start the runtime, search and log it, approve and reindex, gaps, dashboards), shared by webapp and the CLI."""
