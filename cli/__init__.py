"""The `kb` command line: thin click commands over kb, indexer, services and bench (beside
webapp)."""
