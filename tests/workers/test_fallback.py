"""trafilatura's metadata read field by field (``workers.fallback``) against its own reading."""

from __future__ import annotations

import pytest
import trafilatura
from trafilatura.metadata import extract_metadata

from workers.fallback import TrafilaturaFields

URL = "https://news.example.com/politik/council-votes"
WITH_META = """<html><head><title>Council votes on the budget | Example News</title>
<meta property="og:title" content="Council votes on the budget">
<meta property="og:site_name" content="Example News">
<meta property="og:description" content="The council voted &amp; agreed.">
<meta property="og:image" content="https://news.example.com/council.jpg">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="/politik/council-votes?ref=rss">
</head><body><article><h1>Council votes on the budget</h1>
<p class="byline">By <a rel="author" href="/authors/jane">Jane Doe</a></p>
<time datetime="2024-05-03T15:47:42+02:00">3 May 2024</time>
<p>The council voted on the budget on Friday evening after a long debate.</p>
<p>Tags: <a href="/tag/budget">budget</a>, <a href="/tag/council">council</a></p>
<p>Filed under <a href="/category/politics/">Politics</a></p>
</article></body></html>"""
BARE = """<html><head><title>Flood warning for the valley - Valley Courier</title></head>
<body><h1>Flood warning for the valley</h1><p class="author">By Max Muster</p>
<p>Posted 2023-11-02</p><p>Rivers rose across the valley on Thursday night.</p></body></html>"""
FIELDS = ["title", "author", "url", "date", "description", "image", "categories", "tags"]


@pytest.mark.parametrize("html", [WITH_META, BARE], ids=["meta-tags", "bare"])
def test_each_field_is_what_trafilatura_reads_without_json_ld(html: str) -> None:
    fields = TrafilaturaFields(trafilatura.load_html(html), URL)
    expected = extract_metadata(trafilatura.load_html(html), URL)
    assert {name: getattr(fields, name) for name in FIELDS} == {
        name: getattr(expected, name) for name in FIELDS
    }
    assert fields.site_name == expected.sitename
    assert fields.title and fields.date  # the pages do have them: the check compares values


def test_fields_are_read_from_the_tree_as_parsed() -> None:
    tree = trafilatura.load_html(WITH_META)
    fields = TrafilaturaFields(tree, URL)
    trafilatura.bare_extraction(tree, url=URL)  # works on a copy: the tree keeps its <head>
    assert fields.title == "Council votes on the budget"
    assert fields.author == "Jane Doe"
    assert fields.url == URL  # the relative canonical link, on the host of og:image
    assert fields.date == "2024-05-03"
