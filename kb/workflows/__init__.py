"""People's work on the library: submissions, contribution forms, publishing, revisions,
support between schools, transfer reports."""
