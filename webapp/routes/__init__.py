"""The web routes, one module per feature: its pages and their JSON twins under /api together.
A route module imports no other; what they share is in webapp.deps, context, forms, schemas."""
