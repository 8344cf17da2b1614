"""kb: turns the Markdown practice library into validated documents (first step of the flow)."""
