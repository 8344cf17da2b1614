"""Text embedders behind one interface: one module per backend, a factory that picks one."""
