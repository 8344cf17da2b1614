"""Pure parsing of content/: front matter and its field reader, write-ups, taxonomy, schools,
Markdown, library loading, coverage and stats."""
