"""Reading parameters from a request: search filters resolved through the taxonomy, the audience
of collection pages, typed path segments, and a safe address to return to after signing in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.convertors import IntegerConvertor, StringConvertor, register_url_convertor
from starlette.datastructures import QueryParams

from indexer.records import FILTER_PARAMS
from indexer.search.engine import SORTS, SearchQuery
from kb.content.directory import Directory
from kb.content.taxonomy import Taxonomy
from kb.errors import BadInputError

PARAM_OF_FIELD = {v: k for k, v in FILTER_PARAMS.items()}
MAX_PAGE = 1000
MAX_VALUES = 20


class CollectionSlug(StringConvertor):
    """`{slug:collection}` in a route: a collection's address, any path segment but `new`,
    which is the curators' form for making one (so neither route can capture the other)."""

    regex = "(?!new$)[^/]+"


class BoundedId(IntegerConvertor):
    """`{x:int}` in every route: at most 18 digits, so a larger id (SQLite holds 64 bits)
    matches no route and is a plain 404 instead of an OverflowError deep in a query."""

    regex = "[0-9]{1,18}"


register_url_convertor("collection", CollectionSlug())
# The same rule for a programme's address and for the parts of a programme a curator edits
# (rooms, strands, slots, sessions): `new` is always the form for adding one.
register_url_convertor("programme", CollectionSlug())
register_url_convertor("part", CollectionSlug())
# Replaces Starlette's own "int" before any route module is imported (they all import this
# module through webapp.deps), so every id segment of this app is bounded.
register_url_convertor("int", BoundedId())


@dataclass(frozen=True)
class SearchRequest:
    query: SearchQuery
    params: dict[str, list[str]]  # the canonical URL parameters (for links)


def _resolve(param: str, field_name: str, value: str, taxonomy: Taxonomy,
             directory: Directory) -> str:
    value = value.strip()
    if field_name == "year":
        if not re.fullmatch(r"(19|20)\d\d", value):
            raise BadInputError(f"parameter 'year': {value[:20]!r} is not a year like 2016")
        return value
    if field_name == "school":
        school = directory.resolve_school(value)
        if school is None:
            raise BadInputError(f"parameter 'school': unknown school {value[:60]!r}")
        return school.id
    if field_name == "family":
        family = directory.resolve_family(value)
        if family is None:
            raise BadInputError(f"parameter 'family': unknown family {value[:60]!r}")
        return family.id
    term = taxonomy.for_field(field_name).resolve(value)
    if term is None:
        raise BadInputError(f"parameter '{param}': "
                            + taxonomy.unknown_tag_message(field_name, value[:60]))
    return term


def parse_search(params: QueryParams, taxonomy: Taxonomy, directory: Directory,
                 page_size: int) -> SearchRequest:
    """Turn query parameters into a SearchQuery; unknown values raise BadInputError."""
    text = params.get("q", "")
    raw_page = params.get("page", "1") or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise BadInputError(f"parameter 'page' must be a whole number from 1 to {MAX_PAGE}")
    raw_size = params.get("page_size", str(page_size)) or str(page_size)
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
        raise BadInputError("parameter 'page_size' must be a whole number from 1 to 100")
    filters: dict[str, tuple[str, ...]] = {}
    canonical: dict[str, list[str]] = {}
    for param, field_name in FILTER_PARAMS.items():
        values = [v for v in params.getlist(param) if v.strip()]
        if len(values) > MAX_VALUES:
            raise BadInputError(f"parameter '{param}' is repeated more than {MAX_VALUES} times")
        ids: list[str] = []
        for value in values:
            term = _resolve(param, field_name, value, taxonomy, directory)
            if term not in ids:
                ids.append(term)
        if ids:
            filters[field_name] = tuple(ids)
            canonical[param] = ids
    sort = params.get("sort", "relevance") or "relevance"
    if sort not in SORTS:
        raise BadInputError(f"parameter 'sort' must be one of {', '.join(SORTS)}")
    if sort != "relevance":
        canonical["sort"] = [sort]
    exact = params.get("exact", "") in ("1", "true", "yes")
    if exact:
        canonical["exact"] = ["1"]
    query = SearchQuery(text, filters, int(raw_page), int(raw_size), sort, exact)
    return SearchRequest(query, canonical)


def parse_audience(params: QueryParams, taxonomy: Taxonomy) -> tuple[tuple[str, ...],
                                                                      tuple[str, ...]]:
    """The subject and phase filters of the collection and programme pages, as taxonomy ids."""
    out: list[tuple[str, ...]] = []
    for param, field_name in (("subject", "subjects"), ("phase", "phase")):
        values = [v for v in params.getlist(param) if v.strip()]
        if len(values) > MAX_VALUES:
            raise BadInputError(f"parameter '{param}' is repeated more than {MAX_VALUES} times")
        ids: list[str] = []
        for value in values:
            term = taxonomy.for_field(field_name).resolve(value)
            if term is None:
                raise BadInputError(f"parameter '{param}': "
                                    + taxonomy.unknown_tag_message(field_name, value[:60]))
            if term not in ids:
                ids.append(term)
        out.append(tuple(ids))
    return out[0], out[1]


def safe_next(value: str | None) -> str:
    """A local path to return to after signing in; anything else becomes '/'."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 for c in value) or "\\" in value:
        return "/"
    return value[:500]
