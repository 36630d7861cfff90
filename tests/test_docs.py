"""The documentation stays true: its sources files load, its error messages are the loader's,
and its links lead to files that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workers.errors import ConfigurationError
from workers.sources import load_sources_file

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def code_blocks(path: Path) -> list[tuple[str, str]]:
    """(language, text) of every fenced code block of a Markdown file, in order."""
    return FENCE.findall(path.read_text(encoding="utf-8"))


def sources_examples() -> tuple[list[str], list[tuple[str, str]]]:
    """docs/sources.md's TOML blocks: those that must load, and (file, message) pairs of
    those followed by the error they give."""
    blocks = code_blocks(DOCS / "sources.md")
    good, bad = [], []
    for index, (language, text) in enumerate(blocks):
        if language != "toml":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else ("", "")
        if following[0] == "text" and following[1].startswith("newsdesk: error:"):
            bad.append((text, following[1].strip()))
        else:
            good.append(text)
    return good, bad


def test_the_example_sources_file_loads() -> None:
    sources = load_sources_file(DOCS / "sources.example.toml")
    names = [source.name for source in sources]
    assert names == ["example-news", "example-magazine", "example-times", "example-wire", "paused"]
    assert [source.enabled for source in sources] == [True, True, True, True, False]


GOOD, BAD = sources_examples()


def test_sources_md_has_examples_of_both_kinds() -> None:
    assert len(GOOD) >= 6 and len(BAD) >= 8


@pytest.mark.parametrize("text", GOOD)
def test_every_example_in_sources_md_loads(text: str, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    assert len(load_sources_file(path)) >= 1


@pytest.mark.parametrize(("text", "message"), BAD)
def test_every_error_in_sources_md_is_the_loaders(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_sources_file(path)
    said = "newsdesk: error: " + str(raised.value).replace(str(path), "sources.toml")
    assert said == message


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def prose(page: Path) -> str:
    """A Markdown file without its code blocks and code spans."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: path.name)
def test_relative_links_lead_to_files_and_headings_that_exist(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = page.parent / path if path else page
        if not linked.exists() or (
            anchor and linked.suffix == ".md" and anchor not in anchors(linked)
        ):
            broken.append(target)
    assert broken == []
