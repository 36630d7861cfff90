"""The article's language: what the page declares, checked against its text."""

from __future__ import annotations

from tests.workers.test_extract import WORK, fetched
from workers.language import article_language, declared_code
from workers.records import Article
from workers.tasks import article_from_page

GERMAN = (
    "Der Stadtrat hat am Dienstagabend den neuen Haushalt beschlossen. Die Bürgermeisterin "
    "sagte, die Stadt werde mehr Geld für Schulen und den Nahverkehr ausgeben. Die Opposition "
    "kritisierte die hohen Schulden und forderte, dass die Ausgaben für die Verwaltung sinken. "
    "Nach einer langen Debatte stimmten die meisten Mitglieder des Rates für den Plan, der im "
    "kommenden Jahr in Kraft treten soll."
)
NORWEGIAN = (
    "Bystyret vedtok tirsdag kveld det nye budsjettet. Ordføreren sa at kommunen skal bruke "
    "mer penger på skoler og kollektivtrafikk. Opposisjonen kritiserte den høye gjelden og "
    "krevde at utgiftene til administrasjonen må ned. Etter en lang debatt stemte de fleste "
    "medlemmene for planen, som skal gjelde fra neste år."
)


def test_a_declared_tag_is_cut_to_its_language() -> None:
    assert declared_code("de-CH") == "de"
    assert declared_code("pt_BR") == "pt"
    assert declared_code("EN") == "en"
    assert declared_code("") is None
    assert declared_code("x") is None


def test_the_text_overrules_a_template_default_in_another_language() -> None:
    assert article_language(["en"], GERMAN) == "de"


def test_the_declared_language_stands_when_the_text_agrees() -> None:
    assert article_language(["de", "en"], GERMAN) == "de"


def test_close_kin_that_identifiers_confuse_keep_the_pages_word() -> None:
    assert article_language(["nb"], NORWEGIAN) == "nb"
    assert article_language(["da"], NORWEGIAN) == "da"


def test_a_short_text_is_not_checked() -> None:
    assert article_language(["en"], "Der Rat hat entschieden.") == "en"
    assert article_language([None, None], "Der Rat hat entschieden.") is None


def test_without_a_declared_language_the_texts_is_taken() -> None:
    assert article_language([None], GERMAN) == "de"


def test_an_english_lang_attribute_on_a_german_article_gives_german() -> None:
    paragraphs = "".join(f"<p>{GERMAN}</p>" for _ in range(2))
    html = (f'<html lang="en"><body><article><h1>Haushalt beschlossen</h1>{paragraphs}'
            "</article></body></html>").encode()  # fmt: skip
    article = article_from_page(fetched(html), WORK)
    assert isinstance(article, Article)
    assert article.language == "de"
