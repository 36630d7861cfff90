"""Page metadata: what JSON-LD, microdata, OpenGraph and meta tags declare, on small pages."""

from __future__ import annotations

import json

import trafilatura

from workers.metadata import PageMetadata, parse_date, read_metadata

URL = "https://example.com/news/story"


def read(head: str = "", body: str = "", ld: object = None) -> PageMetadata:
    script = f'<script type="application/ld+json">{json.dumps(ld)}</script>' if ld else ""
    html = f"<html><head>{head}{script}</head><body>{body}<p>Text.</p></body></html>"
    return read_metadata(trafilatura.load_html(html), URL)


def test_json_ld_article_inside_a_graph_with_referenced_author() -> None:
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Example"},
        {"@type": "Person", "@id": "#jane", "name": "Jane Doe"},
        {"@type": ["NewsArticle"], "headline": "Council approves the plan",
         "author": [{"@id": "#jane"}, {"@type": "Person", "name": ["John Roe"]}],
         "datePublished": "2024-05-03T15:47:42+02:00", "keywords": ["budget", "council"],
         "articleSection": "Local", "inLanguage": "en-GB", "isAccessibleForFree": "False",
         "publisher": {"@type": "Organization", "name": "Example Times"}},
    ]}  # fmt: skip
    metadata = read(ld=ld)
    assert metadata.headline == "Council approves the plan"
    assert metadata.persons == ["Jane Doe", "John Roe"]
    assert metadata.published_at == "2024-05-03T15:47:42+02:00"
    assert metadata.keywords == ["budget", "council"]
    assert metadata.sections == ["Local"]
    assert metadata.language == "en-GB"
    assert metadata.free is False
    assert metadata.site_name == "Example Times"


def test_organisation_authors_and_url_authors_are_not_persons() -> None:
    ld = [{"@type": "BreadcrumbList"},
          {"@type": "http://schema.org/Article", "headline": "H",
           "author": [{"@type": "Organization", "name": "Example Times"},
                      "https://example.com/authors/jane"]}]  # fmt: skip
    metadata = read(ld=ld)
    assert metadata.persons == []
    assert metadata.organisations == ["Example Times"]


def test_a_person_named_by_given_and_family_name_is_a_person() -> None:
    ld = {"@type": "NewsArticle", "headline": "Council approves the plan",
          "author": [{"@type": "Person", "givenName": "Birgit", "familyName": "Baumann"},
                     {"@type": "Person", "name": "Jan Marchart", "givenName": "Jan"}]}  # fmt: skip
    assert read(ld=ld).persons == ["Birgit Baumann", "Jan Marchart"]


def test_the_site_names_itself_in_a_website_node_when_the_article_names_no_publisher() -> None:
    ld = {
        "@graph": [
            {"@type": "NewsArticle", "headline": "Council approves the plan"},
            {"@type": "WebSite", "name": "Example Times", "url": "https://example.com/"},
        ]
    }
    assert read(ld=ld).site_name == "Example Times"
    assert read(head='<meta property="og:site_name" content="Example">', ld=ld).site_name == (
        "Example"
    )


def test_the_article_about_this_url_wins_over_related_ones() -> None:
    ld = [
        {"@type": "NewsArticle", "headline": "Related", "url": "https://example.com/other"},
        {"@type": "NewsArticle", "headline": "This one", "mainEntityOfPage": {"@id": URL}},
    ]
    assert read(ld=ld).headline == "This one"


def test_microdata_article() -> None:
    body = """<article itemscope itemtype="https://schema.org/NewsArticle">
      <h1 itemprop="headline">Bridge reopens</h1>
      <span itemprop="author" itemscope itemtype="https://schema.org/Person">
        <span itemprop="name">Ana Pérez</span></span>
      <time itemprop="datePublished" datetime="2024-02-01T08:00:00+01:00">1 Feb</time>
    </article>"""
    metadata = read(body=body)
    assert metadata.headline == "Bridge reopens"
    assert metadata.persons == ["Ana Pérez"]
    assert metadata.published_at == "2024-02-01T08:00:00+01:00"


def test_opengraph_and_meta_tags_when_there_is_no_json_ld() -> None:
    head = """<meta property="og:title" content="Storm hits the coast">
      <meta property="og:site_name" content="Daily Planet">
      <meta property="article:published_time" content="2024-05-03T10:00:00Z">
      <meta property="article:tag" content="Weather"><meta property="article:tag" content="Coast">
      <meta property="article:section" content="Nation">
      <meta property="article:author" content="https://facebook.com/someone">
      <meta name="author" content="Clark Kent">
      <meta property="keywords" content="storm, coast">"""
    metadata = read(head=head)
    assert metadata.headline == "Storm hits the coast"
    assert metadata.site_name == "Daily Planet"
    assert metadata.published_at == "2024-05-03T10:00:00+00:00"
    assert metadata.keywords == ["Weather", "Coast"]
    assert metadata.meta_keywords == ["storm, coast"]  # read from name= or property=
    assert metadata.sections == ["Nation"]
    assert metadata.persons == ["Clark Kent"]


def test_run_together_keywords_give_way() -> None:
    ld = {"@type": "NewsArticle", "keywords": "Boxen Russland Tyson Fury Anthony Joshua"}
    head = '<meta name="news_keywords" content="Boxen,Russland,Tyson Fury,Anthony Joshua">'
    metadata = read(head=head, ld=ld)
    assert metadata.keywords == []
    assert metadata.meta_keywords == ["Boxen,Russland,Tyson Fury,Anthony Joshua"]


def test_a_day_is_made_precise_by_a_later_source_on_the_same_day() -> None:
    ld = {"@type": "NewsArticle", "datePublished": "2024-05-03"}
    same = '<meta property="article:published_time" content="2024-05-03T09:30:00+02:00">'
    other = '<meta property="article:published_time" content="2024-05-04T09:30:00+02:00">'
    assert read(head=same, ld=ld).published_at == "2024-05-03T09:30:00+02:00"
    assert read(head=other, ld=ld).published_at == "2024-05-03"


def test_heading_is_the_h1_inside_a_headline_with_a_kicker() -> None:
    ld = {"@type": "NewsArticle", "headline": "Minderheit in Syrien - Drusen fordern Teilhabe"}
    assert read(body="<h1>Drusen fordern Teilhabe</h1>", ld=ld).heading == "Drusen fordern Teilhabe"
    assert read(body="<h1>Ganz anderer Titel hier</h1>", ld=ld).heading is None


def test_parse_date() -> None:
    assert parse_date("2024-05-03 15:47:42+0200") == "2024-05-03T15:47:42+02:00"
    assert parse_date("3 May 2024") is None
    assert parse_date(None) is None


def test_visible_tag_list_by_the_article_is_read_when_nothing_is_declared() -> None:
    body = """<nav><a href="/thema/politik">Politik</a><a href="/thema/sport">Sport</a></nav>
      <article><h1>Bridge reopens</h1>
        <p>The <a href="/thema/bruecke">bridge</a> reopened today after a long time of repairs.</p>
        <div class="article-tags"><span>Themen:</span>
          <a href="/x/1">Brücke</a><a href="/x/2">Verkehr</a></div></article>
      <aside><ul><li><a href="/tag/trending">Trending</a></li><li><a href="/tag/b">B</a></li>
        <li><a href="/tag/c">C</a></li></ul></aside>"""
    # The group in the article wins over the larger one outside it; navigation and a link
    # in running text are not tags.
    assert read(body=body).meta_keywords == ["Brücke", "Verkehr"]


def test_tag_links_are_known_by_their_path_or_rel() -> None:
    body = """<main><h1>Storm</h1><p>Text of the story.</p>
      <ul><li><a href="/news/topics/abc">UK weather</a></li>
        <li><a rel="tag" href="/s">Storms</a></li></ul></main>
      <footer><a href="/tags/about">About us</a></footer>"""
    assert read(body=body).meta_keywords == ["UK weather", "Storms"]


def test_a_tag_path_is_read_as_the_address_is_split() -> None:
    # urlsplit takes tabs and line breaks out of an address wherever they are: a tag path
    # written across a line break is still one, and "/tag/" in a query or host is none.
    body = """<main><h1>Storm</h1><p>Text of the story.</p>
      <ul><li><a href="/news/to\npics/abc">UK weather</a></li>
        <li><a href="/s?from=/tag/x">Storms</a></li>
        <li><a href="/topics/\train">Rain</a></li></ul></main>"""
    assert read(body=body).meta_keywords == ["UK weather", "Rain"]


def test_declared_keywords_come_before_visible_tags() -> None:
    head = '<meta name="keywords" content="storm, coast">'
    body = '<article><h1>Storm</h1><div class="tags"><a href="/t/1">Wind</a></div></article>'
    assert read(head=head, body=body).meta_keywords == ["storm, coast"]
    assert read(body=body).meta_keywords == ["Wind"]


def test_the_social_title_without_the_kicker_is_the_headline() -> None:
    ld = {"@type": "NewsArticle", "headline": "Neue Leipziger Schule: Judy Lybke, ganz eigenartig"}
    bare = '<meta property="og:title" content="Judy Lybke, ganz eigenartig">'
    dash = {"@type": "NewsArticle", "headline": "Minderheit in Syrien - Drusen fordern Teilhabe"}
    og_dash = '<meta property="og:title" content="Drusen fordern Teilhabe">'
    assert read(head=bare, ld=ld).heading == "Judy Lybke, ganz eigenartig"
    assert read(head=og_dash, ld=dash).heading == "Drusen fordern Teilhabe"
    # Not a kicker: the shorter title is cut inside a word, or is another title.
    cut = '<meta property="og:title" content="Lybke, ganz eigenartig">'
    other = '<meta property="og:title" content="Ein ganz anderer Titel">'
    assert read(head=cut, ld={**ld, "headline": "Judy-Lybke, ganz eigenartig"}).heading is None
    assert read(head=other, ld=ld).heading is None


def test_a_part_declared_not_free_makes_the_article_not_free() -> None:
    ld = {
        "@type": "NewsArticle",
        "isAccessibleForFree": True,
        "hasPart": {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": ".paywall",
        },
    }
    assert read(ld=ld).free is False
    assert read(ld={"@type": "NewsArticle", "isAccessibleForFree": True}).free is True
    assert read(ld={"@type": "NewsArticle"}).free is None


def test_trending_topics_in_an_aside_are_no_tags_of_the_article() -> None:
    body = """<main><article><h1>Genf</h1><p>Text of the story.</p></article>
      <div class="aside-slot"><div class="topics"><a href="/thema/putin">Wladimir Putin</a>
        <a href="/thema/ukraine">Ukraine</a><a href="/thema/trump">Donald Trump</a></div></div>
      </main>"""
    assert read(body=body).meta_keywords == []


def test_a_nav_inside_the_article_marked_as_its_tags_is_its_tag_list() -> None:
    body = """<nav class="site"><a href="/t/news">News</a><a href="/t/sport">Sport</a></nav>
      <article><h1>Film</h1><p>Text of the story.</p>
      <div class="article-tags"><nav class="o-nav"><ul>
        <li><a href="/t/american-crime-film/">american crime film</a></li></ul></nav></div>
      </article>"""
    assert read(body=body).meta_keywords == ["american crime film"]


def test_a_dated_time_element_without_its_item_still_dates_the_article() -> None:
    body = (
        '<meta name="DCSext.articleFirstPublished" content="2019-02-05 16:07">'
        "<h1>Best heated airers</h1>"
        '<time itemprop="datePublished" datetime="2023-08-30T16:45+0100">30 August 2023</time>'
        "<time itemprop='dateModified' content='2023-09-01'>1 Sept</time>"
    )
    metadata = read(body=body)
    assert metadata.published_at == "2023-08-30T16:45:00+01:00"
    assert metadata.modified_at == "2023-09-01"
    declared = {"@type": "NewsArticle", "datePublished": "2023-08-29T10:00:00+01:00"}
    assert read(body=body, ld=declared).published_at == "2023-08-29T10:00:00+01:00"


def test_a_headline_that_reads_as_a_paragraph_gives_way_to_the_social_title() -> None:
    summary = "The meeting brought experts together. I compiled five trends from the hall."
    ld = {"@type": "BlogPosting", "headline": summary}
    head = '<meta property="og:title" content="5 Trends from Nutrition 2025">'
    assert read(head=head, ld=ld).headline == "5 Trends from Nutrition 2025"
    ld = {"@type": "BlogPosting", "headline": "Machine learning, explained"}
    assert read(head=head, ld=ld).headline == "Machine learning, explained"


def test_a_kicker_that_the_social_title_repeats_stays_in_the_title() -> None:
    kicked = "Nach Gaetz-Rückzug: Trump-Anwältin soll Justizministerin werden"
    ld = {"@type": "NewsArticle", "headline": kicked}
    h1 = "<h1>Trump-Anwältin soll Justizministerin werden</h1>"
    same = f'<meta property="og:title" content="{kicked}">'
    assert read(head=same, body=h1, ld=ld).heading is None
    other = '<meta property="og:title" content="Trump-Anwältin wird Justizministerin">'
    assert read(head=other, body=h1, ld=ld).heading == "Trump-Anwältin soll Justizministerin werden"


def test_the_keywords_meta_replaces_a_shorter_declared_list_of_the_same_tags() -> None:
    ld = {"@type": "NewsArticle", "keywords": ["USA", "Banken"]}
    head = '<meta name="news_keywords" content="Wirtschaft, Unternehmen, USA, Banken">'
    assert read(head=head, ld=ld).keywords == ["Wirtschaft, Unternehmen, USA, Banken"]
    joined = {"@type": "NewsArticle", "keywords": "Cannes Messen Duisburg"}
    head = '<meta name="keywords" content="Messen,Duisburg,Cannes">'
    assert read(head=head, ld=joined).keywords == ["Messen,Duisburg,Cannes"]
    other = '<meta name="keywords" content="USA, Politik">'
    assert read(head=other, ld=ld).keywords == ["USA", "Banken"]


def test_a_keywords_meta_naming_the_site_is_the_sites_list_not_the_articles() -> None:
    site = '<meta property="og:site_name" content="産経新聞：産経ニュース">'
    head = site + '<meta name="keywords" content="産経新聞,ニュース,政治,経済,社会">'
    body = '<article><h1>地震</h1><div class="tags"><a href="/t/1">地震</a></div></article>'
    assert read(head=head, body=body).meta_keywords == ["地震"]
    by_host = '<meta name="keywords" content="example.com, news, sport">'
    assert read(head=by_host, body=body).meta_keywords == ["地震"]
    own = site + '<meta name="keywords" content="地震,東京">'
    assert read(head=own, body=body).meta_keywords == ["地震,東京"]


def test_a_lone_article_tag_unlike_the_keywords_is_the_category() -> None:
    head = (
        '<meta property="og:type" content="article">'
        '<meta property="article:tag" content="Business, Finance, &amp; Economics">'
        '<meta name="keywords" content="Rezession, Konjunkturpolitik, Wachstum">'
    )
    metadata = read(head=head)
    assert metadata.keywords == []  # so the article's tags are the keywords meta's
    assert metadata.meta_keywords == ["Rezession, Konjunkturpolitik, Wachstum"]
    # The same tag written with or without accents is one tag: the declared one stays.
    same = (
        '<meta property="og:type" content="article">'
        '<meta property="article:tag" content="Córdoba">'
        '<meta name="keywords" content="cordoba, patrimonio, lucha">'
    )
    assert read(head=same).keywords == ["Córdoba"]
    # A keyword list too short to tell leaves the declared tag as it is.
    short = (
        '<meta property="og:type" content="article">'
        '<meta property="article:tag" content="Politics">'
        '<meta name="keywords" content="Gaza, Israel">'
    )
    assert read(head=short).keywords == ["Politics"]


def test_a_link_to_the_index_of_all_tags_is_no_tag() -> None:
    body = """<article><h1>Spionage</h1><p>Text.</p><div class="tags">
      <a href="/thema/schweiz">Schweiz</a><a href="/thema/genf">Genf</a>
      <a href="https://www.example.com/themen/">Alle Themen</a></div></article>"""
    assert read(body=body).meta_keywords == ["Schweiz", "Genf"]


def test_keywords_in_a_script_without_spaces_are_split_at_spaces() -> None:
    head = '<meta name="keywords" content="深空探测 探月工程 航天技术">'
    assert read(head=head).meta_keywords == ["深空探测", "探月工程", "航天技术"]
