"""Safe YAML loading that remembers the line of every mapping key, for precise error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

# A step of a key path: a mapping key (text) or a list position (counted from 0).
Step = str | int


class YamlSyntaxError(ValueError):
    """YAML that cannot be parsed; carries the 1-based line of the fault."""

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


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that keeps ISO dates as dates and refuses duplicate keys."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int)) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys
)


def _record_lines(node: yaml.Node, prefix: tuple[Step, ...], out: dict[tuple[Step, ...], int],
                  line_offset: int) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = prefix + (str(key_node.value),)
                out[path] = key_node.start_mark.line + 1 + line_offset
                _record_lines(value_node, path, out, line_offset)
    elif isinstance(node, yaml.SequenceNode):
        # List items are keyed by their 0-based position, e.g. ("items", 2, "writeup").
        for index, item_node in enumerate(node.value):
            path = prefix + (index,)
            out[path] = item_node.start_mark.line + 1 + line_offset
            _record_lines(item_node, path, out, line_offset)


def load_located(text: str, line_offset: int = 0) -> LocatedYaml:
    """Parse YAML text safely; line numbers are shifted by line_offset (for front matter)."""
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        if node is None:
            return LocatedYaml(None)
        loader = _StrictLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        reason = exc.problem or str(exc)
        if exc.context:
            reason = f"{exc.context}: {reason}"
        raise YamlSyntaxError(f"malformed YAML: {reason}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"malformed YAML: {exc}", 1 + line_offset) from None
    lines: dict[tuple[Step, ...], int] = {}
    _record_lines(node, (), lines, line_offset)
    return LocatedYaml(data, lines)
