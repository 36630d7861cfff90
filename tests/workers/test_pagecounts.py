"""One walk over a page gives the counts that each XPath of the page signals used to give."""

from __future__ import annotations

import trafilatura
from lxml.html import HtmlElement

from workers.pagecounts import PageCounts, count_page
from workers.pagesignals import _main_area

PAGE = """<html><head><title>T</title><meta property="og:type" content="article">
<meta name="author" content="Jane Doe">
<script type="application/ld+json">{"@type": "NewsArticle"}</script></head><body>
<header><nav><a href="/">Home</a><a href="/world">World</a></nav></header>
<main><h1>Headline</h1><p>First <b>para</b>graph.</p><!-- a note -->
<h2 id="one">One</h2><h3><a href="#two">Two</a></h3><h2><a href="/s">Story</a></h2>
<ul><li class="card"><a href="/1">1</a></li><li class="card"><a href="/2">2</a></li>
<li class="card">3</li></ul>
<aside><a href="/more">More</a><img src="a.png"></aside><img src="b.png">
<pre><code>x = 1</code></pre><code>inline</code><a href="mailto:x@example.com">mail</a>
<script>var x = "not text";</script><form action="/cart"><input type="text">
<input type="hidden"><input type="submit"><button>Go</button></form>
</main><footer><p>Footer</p></footer></body></html>"""


def counts_of(html: str) -> tuple[HtmlElement, PageCounts]:
    tree = trafilatura.load_html(html)
    return tree, count_page(tree, _main_area(tree))


def test_main_area_counts_leave_out_nav_header_footer_and_aside() -> None:
    _, counts = counts_of(PAGE)
    texts = " ".join(" ".join(counts.texts).split())
    assert texts == (
        "Headline First para graph. One Two Story 1 2 3 x = 1 inline mail Go"
    )  # no "Home", "More", "Footer", no script text, no comment
    assert [p.text_content() for p in counts.paragraphs] == ["First paragraph."]
    assert counts.main["subheading"] == 3
    assert counts.main["anchored_heading"] == 2  # an id, a "#" link
    assert counts.main["linked_heading"] == 2  # h3 and h2 with links (h4 would not count)
    assert counts.main["img"] == 1  # the aside's image is outside the main text
    assert counts.main["contact_link"] == 1
    assert counts.repeated_blocks == 2  # cards with a link followed by one of their class
    assert [link.text_content() for link in counts.links] == ["Two", "Story", "1", "2", "mail"]


def test_whole_page_counts() -> None:
    _, counts = counts_of(PAGE)
    assert counts.anywhere["nav_link"] == 2
    assert counts.anywhere["aside_link"] == 1
    assert counts.anywhere["pre"] == 1
    assert counts.anywhere["code"] == 1  # the one outside <pre>
    assert counts.anywhere["field"] == 1  # text input; hidden and submit are not fields
    assert counts.anywhere["button"] == 2  # <button> and the submit input
    assert counts.anywhere["author_meta"] == 1
    assert counts.og_type == "article"
    assert counts.json_ld == ['{"@type": "NewsArticle"}']
    assert "/cart" in counts.marks and "card" in counts.marks


def test_a_second_top_level_element_is_walked_too() -> None:
    html = (
        "<html><body><p class=a>x</p></body></html>"
        "<html><body><div class=avatar><a href=/u>u</a></div></body></html>"
    )
    tree, counts = counts_of(html)
    assert len(tree.xpath("//@class")) == 2
    assert sorted(counts.marks) == ["a", "avatar"]
