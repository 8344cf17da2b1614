"""Form messages in plain words for teachers; the validator's exact wording stays in the API."""

from __future__ import annotations

import re

# What to do when a field is missing, per form field (contribution and collection forms).
MISSING = {
    "title": "Enter a title",
    "summary": "Enter a summary of one or two sentences",
    "authors": "Enter the name of at least one author",
    "date": "Enter the date, for example 2024-03-01",
    "phase": "Choose the phase",
    "phases": "Choose at least one phase",
    "key_stages": "Choose at least one key stage",
    "subjects": "Choose at least one subject",
    "interventions": "Choose at least one intervention",
    "evidence_strength": "Choose how strong the evidence is",
    "evidence_measure": "Say what you measured, how, for how many pupils, and what you found",
    "school": "Choose the school",
    "family": "Choose the family of schools",
    "body": "Write the write-up: what you did, its impact and how to adopt it",
    "purpose": "Say in one or two sentences what the session is for",
    "introduction": "Write an introduction for the session",
    "plan": "Add the session plan, one activity a line, for example 10 Welcome and aims",
}
_MISSING = re.compile(r"must be non-empty|must list at least one|got nothing|has no body text|"
                      r"is required|missing", re.IGNORECASE)
_NOT_A_DATE = re.compile(r"must be a date", re.IGNORECASE)
_TOO_LONG = re.compile(r"keep it under (\d+)", re.IGNORECASE)


def plain_message(field: str, message: str) -> str:
    """The validator's message for `field` rewritten as an instruction a teacher can follow."""
    if _MISSING.search(message) and field in MISSING:
        return MISSING[field]
    if _NOT_A_DATE.search(message):
        return "Enter a real date, for example 2024-03-01"
    too_long = _TOO_LONG.search(message)
    if too_long:
        return f"Keep it to {too_long.group(1)} characters or fewer"
    # Other messages (unknown tags with suggestions, duplicate addresses...) are already
    # sentences; drop the programmer's "must be" framing and start with a capital.
    text = message.strip()
    return text[:1].upper() + text[1:] if text else text
