"""Print the settings table of README.md from settings.py: name, default, what it does.

    python docs/settings_reference.py            # print it
    python docs/settings_reference.py --readme   # write it into README.md (make docs)

The documentation of a setting is the comment block right above it in settings.py; a test
fails when README.md's table differs from what this prints.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def settings_rows() -> list[tuple[str, str, str]]:
    """(name, default, documentation) of every documented setting, in file order."""
    source = (ROOT / "settings.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    rows = []
    for node in ast.parse(source).body:
        target = _assigned_name(node)
        if not target or not target.isupper():
            continue
        comment = []
        number = node.lineno - 2
        while number >= 0 and lines[number].startswith("# ") and "---" not in lines[number]:
            comment.insert(0, lines[number][2:].strip())
            number -= 1
        if comment and not comment[0].startswith("Wiring"):
            rows.append((target, _default(node), " ".join(comment).replace("``", "`")))
    return rows


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _default(node: ast.stmt) -> str:
    value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "_env":
        value = value.args[1]
    return ast.unparse(value) if value is not None else ""


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


if __name__ == "__main__":
    if "--readme" in sys.argv:
        write_readme()
    else:
        sys.stdout.write(markdown_table())
