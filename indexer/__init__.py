"""indexer: turns validated documents into a searchable index and answers queries."""
