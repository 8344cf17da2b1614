"""The application-state database (not derived data): schema and migrations, accounts, audit
log, search log."""
