"""Pure parsing of content/: front matter, write-ups, taxonomy, schools, Markdown, library loading, coverage and stats."""
