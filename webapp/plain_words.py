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
    "context": "Say where you tried it: your school, pupils and subject",
    "adapted": "Say what you changed to make it work for you",
    "measured": "Say what you measured and how",
    "message": "Say what help you would like",
}
_MISSING = re.compile(r"must be non-empty|must list at least one|got nothing|has no body text|"
                      r"is required|needs filling in|missing", re.IGNORECASE)
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


_FIELD_FIRST = re.compile(r"^([a-z_][a-z_.]*): (.+)$", re.DOTALL)


def plain_sentence(message: str) -> str:
    """A workflow message such as "message: say what help you would like" as a sentence for
    a web page ("Say what help you would like"); other messages only gain a capital."""
    match = _FIELD_FIRST.match(message.strip())
    if match:
        return plain_message(match.group(1), match.group(2))
    return plain_message("", message)


# Problems with an uploaded file as a whole, said so a teacher can act on them; the exact
# wording stays in the API and `kb validate`. Other problems are already plain sentences.
_FILE_PROBLEMS = (
    (re.compile(r"^malformed YAML", re.IGNORECASE),
     "the details at the top of the file (between the two --- lines) could not be read: check "
     "that each line is 'name: value' and that quotes and brackets are closed"),
    (re.compile(r"^not valid UTF-8", re.IGNORECASE),
     "the file is not plain text: save it as plain text (UTF-8) and upload it again"),
    (re.compile(r"^no front matter", re.IGNORECASE),
     "the file does not start with the details block (a line '---', the title, summary and "
     "other details, then '---'): start from the form instead"),
    (re.compile(r"the limit is ([\d,]+)", re.IGNORECASE),
     "the file is too long: split it, or trim it to under {0} bytes"),
)


def plain_file_problem(message: str) -> str:
    """A problem with an uploaded file as a whole, in plain words (others pass unchanged)."""
    for pattern, words in _FILE_PROBLEMS:
        found = pattern.search(message)
        if found:
            return words.format(*found.groups())
    return message
