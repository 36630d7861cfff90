"""Write the settings reference from settings.py: README.md's table and docs/configuration.md.

    python docs/settings_reference.py                   # print README.md's table
    python docs/settings_reference.py --readme          # write it into README.md
    python docs/settings_reference.py --docs            # write docs/configuration.md
    python docs/settings_reference.py --readme --docs   # both (make docs)

The documentation of a setting is the comment block right above it in settings.py, and its
section is the ``# --- Section ---`` line before it; a setting whose comment starts with
"Wiring" is not listed. Tests fail when README.md's table or docs/configuration.md differs
from what this prints.
"""

from __future__ import annotations

import ast
import pprint
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENV_PREFIX = "NEWSDESK_"
SECTION = re.compile(r"^# -{3,} (?P<title>.+?) -{3,}\s*$")


@dataclass(frozen=True)
class Setting:
    """One documented setting of settings.py."""

    name: str
    default: str  # the default as written in settings.py
    doc: str  # the comment block above it, joined into one paragraph
    section: str
    kind: str  # what the environment variable takes: "integer", "list of strings"…
    value: str = ""  # the default's value, when it is arithmetic (``5 * 1024`` is 5120)

    @property
    def env(self) -> str:
        """The environment variable that overrides it."""
        return ENV_PREFIX + self.name


def read_settings(source: str | None = None) -> list[Setting]:
    """Every documented setting of ``source`` (settings.py's text by default), in file order."""
    if source is None:
        source = (ROOT / "settings.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        name = _assigned_name(node)
        if not name or not name.isupper():
            continue
        comment: list[str] = []
        number = node.lineno - 2
        while number >= 0 and lines[number].startswith("# ") and "---" not in lines[number]:
            comment.insert(0, lines[number][2:].strip())
            number -= 1
        if not comment or comment[0].startswith("Wiring"):
            continue
        default = _default_node(node)
        found.append(
            Setting(
                name=name,
                default=ast.unparse(default) if default is not None else "",
                doc=" ".join(comment).replace("``", "`"),
                section=_section_before(lines, node.lineno),
                kind=_kind(node, default),
                value=_arithmetic_value(default),
            )
        )
    return found


def settings_rows() -> list[tuple[str, str, str]]:
    """(name, default, documentation) of every documented setting, in file order."""
    return [(s.name, s.default, s.doc) for s in read_settings()]


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _default_node(node: ast.stmt) -> ast.expr | None:
    value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "_env":
        return value.args[1]
    return value


def _section_before(lines: list[str], lineno: int) -> str:
    """The title of the last ``# --- Title ---`` line above line ``lineno`` (1-based)."""
    for line in reversed(lines[: lineno - 1]):
        match = SECTION.match(line)
        if match:
            return match.group("title").replace("``", "`")
    return "General"


_KINDS = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "JSON object"}
_PLURALS = {"boolean": "booleans", "integer": "integers", "number": "numbers", "string": "strings"}


def _kind(node: ast.stmt, default: ast.expr | None) -> str:
    """What the setting's environment variable takes, from its annotation or its default."""
    annotation = node.annotation if isinstance(node, ast.AnnAssign) else None
    if isinstance(annotation, ast.Subscript) and getattr(annotation.value, "id", "") == "list":
        item = _KINDS.get(_builtin_type(getattr(annotation.slice, "id", "")), "string")
        return f"list of {_PLURALS.get(item, item)}"
    if isinstance(default, ast.List):
        items = {type(e.value) for e in default.elts if isinstance(e, ast.Constant)}
        item = _KINDS.get(items.pop(), "string") if len(items) == 1 else "string"
        return f"list of {_PLURALS.get(item, item)}"
    if isinstance(default, ast.Dict):
        return "JSON object"
    if isinstance(default, ast.JoinedStr) or (
        isinstance(default, ast.Call) and getattr(default.func, "id", "") == "str"
    ):
        return "string"
    value = _evaluate(default)
    return _KINDS.get(type(value), "string")


def _builtin_type(name: str) -> type:
    return {"bool": bool, "int": int, "float": float, "str": str, "dict": dict}.get(name, str)


def _evaluate(default: ast.expr | None) -> object:
    """The value of a default made of constants and arithmetic only, else None."""
    if default is None:
        return None
    allowed = (ast.Constant, ast.BinOp, ast.UnaryOp, ast.operator, ast.unaryop)
    if not all(isinstance(part, allowed) for part in ast.walk(default)):
        return None
    # Only constants and operators reach this line, so there is nothing to call or look up.
    return eval(compile(ast.Expression(default), "<default>", "eval"), {"__builtins__": {}})


def _arithmetic_value(default: ast.expr | None) -> str:
    """The value of an arithmetic default (``5 * 1024`` gives ``5120``); else empty."""
    if isinstance(default, (ast.BinOp, ast.UnaryOp)):
        value = _evaluate(default)
        if isinstance(value, (int, float)):
            return f"{value:,}" if isinstance(value, int) else repr(value)
    return ""


# --- README.md's table -------------------------------------------------------------------------


def markdown_table() -> str:
    """The settings as a Markdown table."""
    out = ["| setting (env `NEWSDESK_…`) | default | what it does |", "| --- | --- | --- |"]
    for name, default, doc in settings_rows():
        default = default.replace("|", "\\|")
        out.append(f"| `{name}` | `{default}` | {doc} |")
    return "\n".join(out) + "\n"


MARKER = "<!-- settings table: python docs/settings_reference.py -->\n"


def write_readme() -> None:
    """Replace the table after the marker in README.md (the table runs to the next blank line)."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, tail = text.split(MARKER, 1)
    rest = tail.split("\n\n", 1)[1] if "\n\n" in tail else ""
    readme.write_text(head + MARKER + markdown_table() + ("\n" + rest if rest else ""))


# --- docs/configuration.md -----------------------------------------------------------------------

CONFIGURATION_PAGE = ROOT / "docs" / "configuration.md"

_INTRO = """\
# Configuration reference

<!-- Written by `python docs/settings_reference.py --docs` (make docs) from settings.py: edit the
comments there, not this file. tests/test_settings.py fails when the two differ. -->

Every setting of newsdesk lives in [`settings.py`](../settings.py), with its default and, in the
comment above it, its documentation; this page is made from that file. The defaults work on a
laptop: SQLite in the working directory, no broker, polite crawling.

**Changing a setting.** Set the environment variable `NEWSDESK_<NAME>`, for every process that
needs it (crawler, workers, beat, `newsdesk serve`; with Docker Compose, in `newsdesk.env`, see
[deploy.md](deploy.md)). The value is read by the type of the default:

| type | how to write it | example |
| --- | --- | --- |
| boolean | `true`/`false` (also 1/0, yes/no, on/off) | `NEWSDESK_ROBOTSTXT_OBEY=false` |
| integer, number | digits; a number may have a decimal point | `NEWSDESK_DOWNLOAD_DELAY=1.5` |
| string | as it is | `NEWSDESK_BROKER_URL=redis://127.0.0.1:6379/0` |
| list | comma-separated; replaces the whole default list | `NEWSDESK_ALLOW_PRIVATE=a:8000,b` |
| JSON object | a JSON object | `'{"key": "value"}'` |

A value that does not fit the type stops the process at start with a `ValueError` (for a boolean
or a JSON object, the message names the variable).

Command-line options (`--database`, `--broker`, `--max-pages`, `--allow-private`…) win over the
environment for that command, and a source in a sources file may override a few crawl settings
for its own crawls ([sources.md](sources.md)). Scrapy reads the same module as its settings
(`scrapy.cfg`), so the settings under "Scrapy's settings" keep Scrapy's own names and meaning;
[Scrapy's documentation](https://docs.scrapy.org/en/latest/topics/settings.html) has more on them.
Settings marked "Wiring" in `settings.py` (the spiders, middlewares, pipelines and Celery's own
`CELERY_*` names, derived from the ones below) are not meant to be changed and are not listed.
"""


def configuration_page(settings: list[Setting] | None = None) -> str:
    """docs/configuration.md: every documented setting, by section, with its environment
    variable, type, default and documentation."""
    settings = read_settings() if settings is None else settings
    sections: dict[str, list[Setting]] = {}
    for setting in settings:
        sections.setdefault(setting.section, []).append(setting)
    names = {setting.name for setting in settings}
    contents = [
        f"- [{title}](#{_anchor(title)}) ({len(group)})" for title, group in sections.items()
    ]
    blocks = [_INTRO.rstrip("\n"), "## Sections\n\n" + "\n".join(contents)]
    for title, group in sections.items():
        blocks.append(f"## {title}")
        blocks += [_setting_block(setting, names) for setting in group]
    return "\n\n".join(blocks) + "\n"


def _setting_block(setting: Setting, names: set[str]) -> str:
    """One setting: its heading, variable, type and default, then its documentation."""
    long_default = len(setting.default) >= 60
    default = "below" if long_default else f"`{setting.default}`"
    if setting.value:
        default += f" ({setting.value})"
    lines = [
        f"### `{setting.name}`",
        f"`{setting.env}` · {setting.kind} · default {default}",
        _link_settings(setting.doc, names, setting.name),
    ]
    if long_default:
        lines.append(f"Default:\n\n```text\n{_wrapped(setting.default)}\n```")
    return "\n\n".join(lines)


def _wrapped(default: str) -> str:
    """A long literal default laid out over lines of at most 96 characters."""
    try:
        value = ast.literal_eval(default)
    except (ValueError, SyntaxError):
        return default
    return pprint.pformat(value, width=96, compact=True)


def _link_settings(text: str, names: set[str], own: str) -> str:
    """``text`` with the names of other settings linked to their entries (not in code spans)."""
    parts = re.split(r"(`[^`]*`)", text)
    for index, part in enumerate(parts):
        if part.startswith("`"):
            continue
        parts[index] = re.sub(
            r"(?<![\w`])([A-Z][A-Z0-9_]{2,})(?![\w`])",
            lambda m: (
                f"[{m.group(1)}](#{_anchor(m.group(1))})"
                if m.group(1) in names and m.group(1) != own
                else m.group(1)
            ),
            part,
        )
    return "".join(parts)


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.replace(" ", "-")


def write_configuration_page() -> None:
    """Write docs/configuration.md."""
    CONFIGURATION_PAGE.write_text(configuration_page(), encoding="utf-8")


if __name__ == "__main__":
    if "--readme" in sys.argv:
        write_readme()
    if "--docs" in sys.argv:
        write_configuration_page()
    if not {"--readme", "--docs"} & set(sys.argv):
        sys.stdout.write(markdown_table())
