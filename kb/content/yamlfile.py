"""Safe YAML loading with limits that remembers the line of every key, for precise messages.

Every parse has a budget: a size limit, a nesting limit, and no anchors or aliases (a small
"billion laughs" file of aliases expands to millions of values; nobody needs them in content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_DEPTH = 20  # nested mappings and lists; a programme, the deepest file, needs 6
MAX_CHARS = 1_000_000  # the default size budget of one parse

# A step of a key path: a mapping key (text) or a list position (counted from 0).
Step = str | int


class YamlSyntaxError(ValueError):
    """YAML that cannot be read (malformed, or over a budget); carries the 1-based line."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class LocatedYaml:
    """Parsed YAML plus the line of each key path, e.g. ("evidence", "strength") -> 14.

    List items appear under their position: ("items", 0) is the first item's line.
    """

    data: Any
    lines: dict[tuple[Step, ...], int] = field(default_factory=dict)

    def line_of(self, *path: Step, default: int = 0) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return default


class _Refused(yaml.MarkedYAMLError):
    """Well-formed YAML that breaks a rule of ours (an alias, too deep); not 'malformed'."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with budgets: no anchors or aliases, a nesting limit, no duplicate keys;
    impossible dates such as 2024-02-30 stay text, so the field check can name them."""

    def __init__(self, stream: str, max_depth: int = MAX_DEPTH) -> None:
        super().__init__(stream)
        self.depth, self.max_depth = 0, max_depth

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # Checked while scanning: the scanner's look-ahead costs (flow depth)^2 per token.
        if self.flow_level >= self.max_depth:
            raise _Refused(None, None, self._too_deep(), self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def _too_deep(self) -> str:
        return (f"nested more than {self.max_depth} levels deep; use fewer levels of "
                "indentation or brackets")

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(None, None, f"YAML aliases such as *{event.anchor} are not allowed; "
                           "write the value out in full (text that starts with * or & needs "
                           "quotes)", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise _Refused(None, None, f"YAML anchors such as &{event.anchor} are not allowed; "
                           "write each value out in full (text that starts with * or & needs "
                           "quotes)", event.start_mark)
        if not isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > self.max_depth:
            raise _Refused(None, None, self._too_deep(), event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. int('0x_') in PyYAML
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {str(node.value)[:40]!r} ({exc})",
                node.start_mark) from None


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int)):  # other keys: construct_mapping gives the error
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _date_or_text(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # 2024-02-30 or 2024-13-45 look like dates but are none
        return loader.construct_scalar(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_or_text)


def _record_lines(node: yaml.Node, prefix: tuple[Step, ...], out: dict[tuple[Step, ...], int],
                  line_offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = prefix + (str(key_node.value),)
                out[path] = key_node.start_mark.line + 1 + line_offset
                _record_lines(value_node, path, out, line_offset)
    elif isinstance(node, yaml.SequenceNode):
        for index, item_node in enumerate(node.value):
            path = prefix + (index,)
            out[path] = item_node.start_mark.line + 1 + line_offset
            _record_lines(item_node, path, out, line_offset)


def load_located(text: str, line_offset: int = 0, max_chars: int = MAX_CHARS,
                 max_depth: int = MAX_DEPTH) -> LocatedYaml:
    """Parse YAML text safely within the budgets; line numbers are shifted by line_offset
    (for front matter). Raises YamlSyntaxError with the line of the fault."""
    if len(text) > max_chars:
        raise YamlSyntaxError(f"the YAML is {len(text):,} characters; the limit is "
                              f"{max_chars:,}", 1 + line_offset)
    loader = _StrictLoader(text, max_depth)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        reason = exc.problem or str(exc)
        if exc.context:
            reason = f"{exc.context}: {reason}"
        if isinstance(exc, _Refused):
            raise YamlSyntaxError(reason, line) from None
        if "alias" in reason or "anchor" in reason:  # e.g. `title: *Reading* aloud`
            reason += "; text that starts with * or & needs quotes"
        raise YamlSyntaxError(f"malformed YAML: {reason}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"malformed YAML: {exc}", 1 + line_offset) from None
    finally:
        loader.dispose()
    if node is None:
        return LocatedYaml(None)
    lines: dict[tuple[Step, ...], int] = {}
    _record_lines(node, (), lines, line_offset)
    return LocatedYaml(data, lines)
