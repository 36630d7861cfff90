"""The page-type model of ``workers.pagetype``: logistic regression weights.

Written by ``python -m benchmarks.pagetype_fit --write`` on 2026-11-29 from 1648 pages of
../shared/corpus (news-fixtures and wcxb-dev); refit rather than edit. A page's score is
``INTERCEPT + sum(weight * (value - mean) / scale)`` over ``FEATURES``; at ``THRESHOLD`` or
more it is not an article.
"""

INTERCEPT = -2.1324
THRESHOLD = -0.0486
# name, mean, scale, weight
FEATURES: tuple[tuple[str, float, float, float], ...] = (
    ("declared article type", 0.2913, 0.4543, -0.7799),
    ("declared list type", 0.0376, 0.1903, 0.1037),
    ("declared shop type", 0.0589, 0.2354, 0.6616),
    ("declared forum type", 0.0467, 0.211, 0.8785),
    ("declared other type", 0.0316, 0.1748, 0.2453),
    ("og:type article", 0.4964, 0.5, -0.6079),
    ("og:type website", 0.2536, 0.4351, 0.0061),
    ("og:type product", 0.0364, 0.1873, 0.4552),
    ("og:type other", 0.0133, 0.1148, 0.0303),
    ("story-shaped URL", 0.5831, 0.493, -0.5433),
    ("front-page URL", 0.0407, 0.1975, 0.3345),
    ("non-story path", 0.1681, 0.3739, 0.4281),
    ("service host", 0.0643, 0.2453, 0.7264),
    ("heading words", 6.5419, 4.2943, -0.3619),
    ("title words", 7.1954, 3.6085, -0.4258),
    ("slug words", 4.4581, 3.2899, -0.4464),
    ("teaser blocks", 1.1665, 1.1508, -0.083),
    ("repeated link blocks", 2.1234, 1.4674, 0.086),
    ("link density", 0.136, 0.1766, 0.3571),
    ("page words", 7.0992, 1.3449, 0.118),
    ("long paragraphs", 1.9483, 1.227, -0.3975),
    ("long paragraph share", 0.2936, 0.2497, -0.2589),
    ("subheadings", 2.4102, 1.1494, -0.0286),
    ("anchored headings", 0.6038, 1.0615, -0.0062),
    ("images", 2.3159, 1.3944, 0.3059),
    ("tables", 0.1787, 0.4847, -0.0942),
    ("times", 0.2852, 0.7124, -0.0987),
    ("contact links", 0.1611, 0.4083, 0.1705),
    ("code blocks", 0.1748, 0.6762, 0.2006),
    ("inline code", 0.2657, 0.9979, 0.527),
    ("form fields", 1.3658, 1.1197, 0.0824),
    ("buttons", 2.1737, 1.3067, 0.2414),
    ("calls to action", 3.1272, 1.5111, 0.0711),
    ("sidebar links", 3.3053, 1.7394, -0.0506),
    ("prices", 1.1251, 1.6012, 0.3333),
    ("cart", 0.421, 1.0007, 0.3617),
    ("comments", 0.7526, 1.423, -0.0004),
    ("avatars", 0.4277, 1.0364, 0.1097),
    ("published", 0.4939, 0.5, 0.1279),
    ("author", 0.4897, 0.4999, -0.3375),
    ("text words", 6.8804, 1.0114, -0.0175),
    ("prose words", 6.6424, 1.2586, -0.2361),
    ("short lines", 0.4456, 0.256, -0.0997),
    ("sentence lines", 0.6062, 0.2576, -0.0516),
    ("long lines", 0.2756, 0.2403, -0.2221),
    ("prose line words", 3.7367, 0.6913, -0.1163),
    ("kept share", 0.7519, 0.316, -0.2549),
)
# Held out by site (5 folds, mean over the repeated splits): the share of pages rejected.
HELD_OUT = {
    "wcxb-dev non-articles": 0.802,  # ± 0.008
    "listing": 0.743,  # ± 0.019
    "collection": 0.974,  # ± 0.000
    "product": 0.923,  # ± 0.003
    "forum": 0.855,  # ± 0.007
    "service": 0.583,  # ± 0.014
    "documentation": 0.820,  # ± 0.033
    "wcxb-dev articles": 0.019,  # ± 0.002
    "news-fixtures articles": 0.005,  # ± 0.000
}
