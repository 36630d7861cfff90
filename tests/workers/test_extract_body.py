"""The body: its source, what is cut from it, its formats, and the paywall flag."""

from __future__ import annotations

import json

import pytest

from tests.workers.test_extract import REPORT, WORK, fetched
from workers.body import count_words, looks_cut, main_text, without_repeats
from workers.records import Article, Reason, Skip
from workers.tasks import PageWork, article_from_page

STORY = "".join(
    f"<p>Paragraph {n} of the story tells how the council voted on the plan for the harbour, "
    "and what the mayor said afterwards.</p>"
    for n in range(12)
)


def page_with(ld: dict | None = None, body: str = STORY, head: str = "") -> bytes:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    return (f"<html><head>{head}{script}</head><body><article><h1>Council approves the plan</h1>"
            f"{body}</article></body></html>").encode()  # fmt: skip


def test_words_of_scripts_without_spaces_are_counted_one_a_character() -> None:
    assert count_words("南海トラフ、一時調査") == 9
    assert count_words("Der Hund läuft") == 3
    assert count_words("GPT-4 は 2023 年") == 5  # GPT, 4, は, 2023, 年


def test_json_ld_article_body_stands_in_when_trafilatura_finds_too_little() -> None:
    declared = "A declared body " * 30
    assert main_text({"text": "Too short."}, declared, 50) == declared
    assert main_text({"text": "word " * 60}, declared, 50) == "word " * 60
    assert main_text({"text": ""}, "short body", 50) == ""


def test_the_headline_and_the_byline_lines_go_from_the_text() -> None:
    text = "Council approves the plan\nVon Nina Magoley\nNina Magoley met the mayor.\nEnd."
    cleaned = without_repeats(text, "Council approves the plan", ["Nina Magoley"])
    assert cleaned == "Nina Magoley met the mayor.\nEnd."
    both = without_repeats("By Jane Doe and John Roe\nText.", None, ["Jane Doe", "John Roe"])
    assert both == "Text."


def test_a_text_that_stops_in_an_ellipsis_looks_cut() -> None:
    assert looks_cut("First paragraph.\nThe council then decided to…")
    assert looks_cut("First paragraph.\nThe council then decided to ...")
    assert not looks_cut("First paragraph.\nThe council decided.")


def test_a_page_declared_not_free_is_flagged_paywalled() -> None:
    ld = {"@type": "NewsArticle", "headline": "Council approves the plan",
          "isAccessibleForFree": False,
          "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": False,
                      "cssSelector": ".paywall"}}  # fmt: skip
    article = article_from_page(fetched(page_with(ld)), WORK)
    assert isinstance(article, Article)
    assert article.paywalled is True


def test_google_paywall_markup_on_a_part_is_enough() -> None:
    ld = {"@type": "NewsArticle", "hasPart": [{"@type": "WebPageElement",
          "isAccessibleForFree": "False", "cssSelector": ".paywall"}]}  # fmt: skip
    article = article_from_page(fetched(page_with(ld)), WORK)
    assert isinstance(article, Article)
    assert article.paywalled is True


def test_free_undeclared_and_cut_bodies() -> None:
    free = article_from_page(fetched(page_with({"@type": "NewsArticle",
                                                "isAccessibleForFree": True})), WORK)  # fmt: skip
    unsaid = article_from_page(fetched(page_with()), WORK)
    cut = article_from_page(fetched(page_with(body=STORY + "<p>But then the mayor…</p>")), WORK)
    assert isinstance(free, Article) and free.paywalled is False
    assert isinstance(unsaid, Article) and unsaid.paywalled is None
    assert isinstance(cut, Article) and cut.paywalled is True


def test_a_paywall_teaser_without_its_body_is_skipped_as_not_an_article() -> None:
    teaser = "<p>" + "The council met on Tuesday to vote on the harbour plan. " * 8 + "</p>"
    ld = {"@type": "NewsArticle", "isAccessibleForFree": False}
    result = article_from_page(fetched(page_with(ld, body=teaser)), WORK)
    assert isinstance(result, Skip)
    assert result.reason == Reason.NOT_ARTICLE
    assert result.detail.startswith("paywall teaser")


def test_bytes_that_are_utf8_are_read_as_utf8_whatever_the_page_declares() -> None:
    text = "中拉深化航天合作指明方向。" * 30
    html = ("<html><head><meta charset='gb2312'><title>航天合作</title></head><body><article>"
            f"<h1>航天合作论坛</h1><p>{text}</p><p>{text}</p></article></body></html>")  # fmt: skip
    article = article_from_page(fetched(html.encode("utf-8"), content_type=None), WORK)
    assert isinstance(article, Article)
    assert "航天合作" in article.body


BODY = "<h2>What was decided</h2><p>The <b>council</b> voted.</p><ul><li>One</li><li>Two</li></ul>"


@pytest.mark.parametrize(
    ("body_format", "present", "absent"),
    [
        ("text", ["What was decided", "The council voted."], ["<p>", "**", "## "]),
        ("markdown", ["## What was decided", "**council**", "- One"], ["<p>"]),
        ("html", ["<h2>What was decided</h2>", "<strong>council</strong>", "<li>One</li>"],
         ["<body>"]),
    ],
)  # fmt: skip
def test_the_body_comes_in_the_format_set(
    body_format: str, present: list[str], absent: list[str]
) -> None:
    article = article_from_page(
        fetched(page_with(body=BODY + REPORT)), PageWork("sqlite://", body_format=body_format)
    )
    assert isinstance(article, Article), article
    for text in present:
        assert text in article.body
    for text in absent:
        assert text not in article.body
    assert "Council approves the plan" not in article.body  # the headline is no paragraph


def test_an_unknown_body_format_is_an_extraction_error() -> None:
    result = article_from_page(fetched(page_with()), PageWork("sqlite://", body_format="pdf"))
    assert isinstance(result, Skip)
    assert result.reason == Reason.EXTRACT_ERROR
    assert "body format 'pdf'" in result.detail


NEWSLETTER = "<p>Sign up to our morning newsletter for the day's top stories in your inbox.</p>"
CAPTION = "<p>Photo: the harbour seen from the old lighthouse at dawn, Reuters.</p>"
DECLARED = " ".join(
    f"Paragraph {n} of the story tells how the council voted on the plan for the harbour, "
    "and what the mayor said afterwards."
    for n in range(12)
)


@pytest.mark.parametrize(
    ("body_format", "paragraph"),
    [("text", "Paragraph 3 of the story"), ("markdown", "Paragraph 3 of the story"),
     ("html", "<p>Paragraph 3 of the story")],
)  # fmt: skip
def test_blocks_the_declared_article_body_lacks_go_from_the_body(
    body_format: str, paragraph: str
) -> None:
    ld = {"@type": "NewsArticle", "headline": "Council approves the plan", "articleBody": DECLARED}
    page = page_with(ld, body=STORY[:600] + CAPTION + STORY[600:] + NEWSLETTER)
    article = article_from_page(fetched(page), PageWork("sqlite://", body_format=body_format))
    assert isinstance(article, Article), article
    assert "newsletter" not in article.body
    assert "lighthouse" not in article.body
    assert paragraph in article.body
    assert article.body.count("Paragraph") == 12  # the story's paragraphs, each on its own
    assert "\n" in article.body  # not the declared text run together


def test_without_an_article_body_or_one_that_is_another_text_nothing_goes() -> None:
    page = page_with(body=STORY + NEWSLETTER)
    assert "newsletter" in article_from_page(fetched(page), WORK).body
    # Paragraphs of words of their own, and an articleBody of the first five: a teaser.
    words = [" ".join(f"w{n}x{k}" for k in range(12)) for n in range(12)]
    story = "".join(f"<p>The council {text} voted.</p>" for text in words)
    teaser = {
        "@type": "NewsArticle",
        "articleBody": " ".join(f"The council {text} voted." for text in words[:5]),
    }
    body = article_from_page(fetched(page_with(teaser, story + NEWSLETTER)), WORK).body
    assert "newsletter" in body
    assert "w11x0" in body
    other = {"@type": "NewsArticle", "articleBody": "Another story entirely, about trains. " * 20}
    body = article_from_page(fetched(page_with(other, STORY + NEWSLETTER)), WORK).body
    assert "newsletter" in body
    assert body.count("Paragraph") == 12


# An article as a script-rendered page holds it: HTML in a string of the page's script data.
RENDERED = (
    "".join(
        f"<p>Part {n} of the story: the council voted on the harbour plan, and the mayor spoke "
        "to the press about what it means for the town.</p>"
        for n in range(8)
    )
    + '<div class="caption"><p>The harbour at dawn.</p></div>'
)
HEAD = "<head><title>Council approves the harbour plan</title></head>"


def shell(scripts: str) -> bytes:
    """A page whose body is an empty element for a script to fill, and ``scripts``."""
    return f"<html>{HEAD}<body><div id=root></div>{scripts}</body></html>".encode()


def test_a_script_rendered_page_gives_the_html_in_its_script_data() -> None:
    # Next.js's streamed payload: a JavaScript string with < escaped.
    payload = json.dumps([1, RENDERED]).replace("<", "\\u003c")
    streamed = shell(f"<script>self.__next_f.push({payload})</script>")
    # Next.js's page state: JSON in a script of its own.
    state = json.dumps({"props": {"pageProps": {"article": {"html": RENDERED, "id": 7}}}})
    data = shell(f'<script id="__NEXT_DATA__" type="application/json">{state}</script>')
    for page in (streamed, data):
        article = article_from_page(fetched(page), WORK)
        assert isinstance(article, Article), article
        assert article.body.count("the council voted on the harbour plan") == 8
        assert "\n" in article.body


def test_script_data_is_read_only_when_the_page_itself_has_too_little_text() -> None:
    other = "".join(
        f"<p>Script paragraph {n} about something else entirely, at length.</p>" for n in range(9)
    )
    script = f"<script>window.state = {json.dumps({'html': other})}</script>"
    article = article_from_page(fetched(page_with(body=STORY + script)), WORK)
    assert isinstance(article, Article)
    assert "Script paragraph" not in article.body
    few = "".join(f"<p>Paragraph {n} of a teaser.</p>" for n in range(2)) + " " * 300
    page = shell(f"<script>window.state = {json.dumps({'html': few})}</script>")
    skipped = article_from_page(fetched(page), WORK)
    assert isinstance(skipped, Skip)
    assert skipped.reason == Reason.EMPTY
