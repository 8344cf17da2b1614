"""services: use cases that span kb and indexer (start the runtime, search and log it, approve
and reindex, gap lists, dashboards), shared by webapp and the CLI."""
