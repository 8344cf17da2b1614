"""webapp: HTTP only (pages, the JSON API, errors, security); the last step of the flow."""
