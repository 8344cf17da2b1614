"""E-mail: messages built with the standard library, an outbox table, and the sender."""
