"""Visible bylines and publisher names among authors: small snippets shaped like real pages."""

from __future__ import annotations

import lxml.html
import pytest

from tests.workers.test_extract import REPORT, WORK, fetched
from workers.bylines import is_publisher, visible_bylines
from workers.records import Article
from workers.tasks import article_from_page


def bylines(html: str) -> list[str]:
    return visible_bylines(lxml.html.fromstring(html))


def test_a_link_marked_rel_author_names_the_writer() -> None:
    html = """<html><body><article><h1>Ich wollte, dass sie mich mögen</h1>
      <div class="article-headers-shared-author__details">
        <a rel="author" href="/168-krautreporter">Shany Littman</a></div>
      <p>Text.</p></article></body></html>"""
    assert bylines(html) == ["Shany Littman"]


def test_the_written_by_label_of_seo_plugins_names_the_writer() -> None:
    html = """<html><head>
      <meta name="twitter:label1" content="Written by">
      <meta name="twitter:data1" content="Dieter Kuckelkorn">
      <meta name="twitter:label2" content="Est. reading time">
      <meta name="twitter:data2" content="3 Minuten">
      </head><body><h1>Dax legt zu</h1></body></html>"""
    assert bylines(html) == ["Dieter Kuckelkorn"]


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ('<span class="article__author">Von Seb Dumitru, Lille</span>', ["Seb Dumitru, Lille"]),
        ('<p class="byline">Par Jean Dupont</p>', ["Jean Dupont"]),
        ('<div class="c-byline">By <a href="/p/jane">Jane Doe</a> and '
         '<a href="/p/john">John Roe</a></div>', ["Jane Doe", "John Roe"]),
        ('<p class="author">von <a href="mailto:d.straub@mdr.de">David Straub, MDR</a></p>',
         ["David Straub, MDR"]),
        ('<div class="autor">Por María López</div>', ["María López"]),
    ],
)  # fmt: skip
def test_a_byline_element_by_the_headline_gives_the_names(byline: str, names: list[str]) -> None:
    html = f"<html><body><article><h1>Headline</h1>{byline}<p>Text.</p></article></body></html>"
    assert bylines(html) == names


def test_the_innermost_byline_element_is_read_not_its_wrapper() -> None:
    html = """<html><body><article><h1>Headline</h1>
      <div class="authorWrapper"><span class="author-name">Anna Sleegers</span>
        <span class="date">28.04.2023</span></div></article></body></html>"""
    assert bylines(html) == ["Anna Sleegers"]


def test_author_boxes_outside_the_article_are_not_its_byline() -> None:
    html = """<html><body><aside><div class="author">Popular columnist</div></aside>
      <article><h1>Headline</h1><p>Text without a byline.</p></article></body></html>"""
    assert bylines(html) == []


def test_a_lone_introducing_word_is_no_name() -> None:
    html = '<html><body><article><h1>H</h1><span class="author">von</span></article></body></html>'
    assert bylines(html) == []


@pytest.mark.parametrize(
    ("name", "publishers", "url", "expected"),
    [
        ("n-tv NACHRICHTEN", ["n-tv.de"], "https://www.n-tv.de/politik/a.html", True),
        ("Deutsche Welle (www.dw.com)", ["DW.COM"], "https://www.dw.com/de/a", True),
        ("mdr.de", ["MDR"], "https://www.mdr.de/nachrichten/a.html", True),
        ("Krautreporter ", ["Krautreporter"], "https://krautreporter.de/a", True),
        ("Shany Littman", ["Krautreporter"], "https://krautreporter.de/a", False),
        ("Roman Goncharenko", ["DW.COM"], "https://www.dw.com/de/a", False),
        ("BR", ["BR24"], "https://www.br.de/nachrichten/a", True),
        ("AP", ["Example Times"], "https://example.com/a", False),
    ],
)
def test_a_name_that_is_the_publishers_is_told_from_a_person(
    name: str, publishers: list[str], url: str, expected: bool
) -> None:
    assert is_publisher(name, publishers, url) is expected


def test_the_byline_names_the_person_where_json_ld_names_the_publisher() -> None:
    ld = '{"@type": "NewsArticle", "author": {"@type": "Person", "name": "Example Times"}}'
    html = (f'<html><head><meta property="og:site_name" content="Example Times">'
            f'<script type="application/ld+json">{ld}</script></head><body><article>'
            f'<h1>Council approves the plan</h1><p class="byline">By Jane Doe</p>{REPORT}'
            "</article></body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Jane Doe"]
    assert "By Jane Doe" not in article.body  # the byline line is not part of the text


@pytest.mark.parametrize(
    ("field", "names"),
    [
        # Deutsche Welle's box beside the text: date, author, topics.
        ("<ul><li><strong>Datum</strong> 28.04.2023</li>"
         "<li><strong>Autorin/Autor</strong> Roman Goncharenko </li></ul>", ["Roman Goncharenko"]),
        ("<dl><dt>Author:</dt><dd>Jane Doe</dd></dl>", ["Jane Doe"]),
        ("<table><tr><th>Autor</th><td>Anna Beispiel</td></tr></table>", ["Anna Beispiel"]),
        ("<p><b>Auteur :</b> Jean Dupont</p>", ["Jean Dupont"]),
        ("<p><b>Autor:</b> Quelle: dpa</p>", []),
        ("<p><b>Author</b></p>", []),  # a label with nothing after it
        ("<p><b>Authors</b> of this site write about everything that moves the town, every "
         "day of the week, and we are proud of each of them.</p>", []),  # a sentence, not a field
    ],
)  # fmt: skip
def test_a_labelled_author_field_names_the_writer(field: str, names: list[str]) -> None:
    assert bylines(f"<html><body><h1>Headline</h1><p>Text.</p>{field}</body></html>") == names


def test_a_declared_author_that_gives_the_site_away_is_the_publisher() -> None:
    # Cleaned, "Deutsche Welle (www.dw.com)" would read as a person's name; as written, it is
    # the publisher, and the person in the page's author field is the writer.
    ld = '{"@type": "NewsArticle", "author": "Deutsche Welle (www.dw.com)"}'
    html = (f'<html><head><meta property="og:site_name" content="DW.COM">'
            f'<script type="application/ld+json">{ld}</script></head><body><article>'
            f"<h1>Council approves the plan</h1>{REPORT}</article><aside><ul>"
            "<li><strong>Autorin/Autor</strong> Roman Goncharenko</li></ul></aside>"
            "</body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html, url="https://www.dw.com/de/a/a-65464327"), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Roman Goncharenko"]


def test_a_source_credit_is_no_byline() -> None:
    html = """<html><body><article><h1>Headline</h1>
      <p class="author">Quelle: sid/dpa</p><p>Text.</p></article></body></html>"""
    assert bylines(html) == []


def test_a_byline_with_the_newsroom_names_the_writer() -> None:
    ld = '{"@type": "NewsArticle", "author": {"@type": "Person", "name": "mdr.de"}}'
    html = (f'<html><head><meta property="og:site_name" content="MDR">'
            f'<script type="application/ld+json">{ld}</script></head><body><article>'
            f'<h1>Council approves the plan</h1><p class="byline">David Straub, MDR THÜRINGEN</p>'
            f"{REPORT}</article></body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html, url="https://www.mdr.de/nachrichten/a.html"), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["David Straub"]


def test_an_agency_declared_beside_the_writer_is_an_author_the_site_is_not() -> None:
    ld = ('{"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Paula Steiger"},'
          '{"@type": "Organization", "name": "SDA"},'
          '{"@type": "Organization", "name": "Tages-Anzeiger"}]}')  # fmt: skip
    html = (
        f'<html><head><meta property="og:site_name" content="Tages-Anzeiger">'
        f'<script type="application/ld+json">{ld}</script></head><body><article>'
        f"<h1>Council approves the plan</h1>{REPORT}</article></body></html>"
    ).encode()
    article = article_from_page(fetched(html, url="https://www.tagesanzeiger.ch/a"), WORK)
    assert isinstance(article, Article)
    assert article.authors == ["Paula Steiger", "SDA"]
