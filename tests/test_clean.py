"""Tests for rag.clean: the raw-offset map, Unicode safety, and chrome removal."""

from __future__ import annotations

import pytest
from helpers import SHARED
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rag.clean import clean, is_prose, normalize_for_match
from rag.types import CleanText

SEEDS = SHARED / "seeds"
UNICODE_SPACES = set("\u00a0\u1680\u202f\u205f\u3000") | {chr(c) for c in range(0x2000, 0x200B)}


def ws(s: str) -> str:
    return " ".join(s.split())


def assert_exact_map(raw: str, out: CleanText) -> None:
    """Spans copy raw text (modulo 1:1 spaces); everything else in the text is a line break."""
    covered = [False] * len(out.text)
    prev_clean_end, prev_raw_end = 0, 0
    for s in out.spans:
        assert s.length > 0
        assert s.clean_start >= prev_clean_end and s.raw_start >= prev_raw_end
        prev_clean_end, prev_raw_end = s.clean_start + s.length, s.raw_start + s.length
        for k in range(s.length):
            c, r = out.text[s.clean_start + k], raw[s.raw_start + k]
            assert c == r or (c == " " and r in UNICODE_SPACES), (c, r)
            covered[s.clean_start + k] = True
            assert out.to_raw(s.clean_start + k) == s.raw_start + k
    assert all(ch == "\n" for ch, cov in zip(out.text, covered, strict=True) if not cov)
    mapped = [out.to_raw(i) for i in range(len(out.text) + 1)]
    assert mapped == sorted(mapped)


# --- tiny inputs and Unicode ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", " ", "\n\n\t \n", "\u200b\u200d\ufeff", "\u00a0\u3000\n"])
def test_empty_and_blank(raw: str) -> None:
    out = clean(raw)
    assert out.text == "" and out.spans == []
    assert out.to_raw(0) == 0


def test_invisible_characters_are_stripped() -> None:
    raw = "Pay\u200bment was\u202e made to the\u2066 fund on\U000e0041\U000e007f time\x07, he said."
    out = clean(raw)
    assert out.text == "Payment was made to the fund on time, he said."
    assert_exact_map(raw, out)
    assert out.to_raw(out.text.index("ment")) == raw.index("ment")


def test_unicode_spaces_replaced_one_for_one() -> None:
    raw = "  The\u00a0ministry\u2009said\u3000nothing new today.\u202f "
    out = clean(raw)
    assert out.text == "The ministry said nothing new today."
    assert_exact_map(raw, out)
    assert len(out.spans) == 1 and out.spans[0].raw_start == 2


def test_emoji_cyrillic_quotes_and_dashes_kept() -> None:
    raw = "Москва заявила — «мы готовы» 👍🏽 ❤\ufe0f 👨\u200d👩\u200d👧 and “quoted” ‘text’ – ok."
    out = clean(raw)
    assert out.text == raw
    assert_exact_map(raw, out)


def test_crlf_and_line_stripping() -> None:
    raw = "  First line of the text is here.  \r\n\tSecond line is here too.\r\n\r\nIt ended."
    out = clean(raw)
    assert out.text == "First line of the text is here.\nSecond line is here too.\n\nIt ended."
    assert_exact_map(raw, out)


def test_keeping_chrome_only_makes_the_text_safe() -> None:
    raw = "Share this article\n\nThe mayor\u200b opened the\u00a0bridge.\n\nAdvertisement"
    kept = clean(raw, drop_chrome=False)
    assert kept.text == "Share this article\n\nThe mayor opened the bridge.\n\nAdvertisement"
    assert_exact_map(raw, kept)
    assert clean(raw).text == "The mayor opened the bridge."


def test_is_prose_and_normalize() -> None:
    assert is_prose("The court lifted the ban on Thursday.")
    assert is_prose("“Will it last?” she asked them.")
    assert is_prose("Will the deal hold, and for how long?")
    assert not is_prose("Latest news")
    assert not is_prose("Stoltenberg: Europe must brace for decade-long Ukraine conflict")
    assert normalize_for_match("  Russia’s  “Court” —\u00a0ＡＢ\n") == 'russia\'s "court" - ab'


# --- property tests -----------------------------------------------------------------------

SPECIAL = [
    *"\n\n\n \t\r\u00a0\u2009\u3000\u200b\u200d\u202e\u2066\ufeff\x00\x85\u2028😀👍🏽\ufe0f",
    *"ЖжёЯ“”‘’—–-.,?!:/|()0123456789",
    *["\U000e0041", "Reuters", "Photo: ", "Read also", "3 hours ago", " 19 July 2024 - 15:06"],
]
raw_text = st.lists(
    st.one_of(st.characters(blacklist_categories=("Cs",)), st.sampled_from(SPECIAL)), max_size=80
).map("".join)

LINES = [
    "The minister said the talks would resume next week.",
    "Officials did not comment on the report.",
    "“We will not give up,” she told reporters on Monday.",
    "Subscribe",
    "Read also",
    "More stories",
    "19 July 2024 - 15:06",
    "2 hours ago",
    "Flood barriers to be raised in coastal towns",
    "Jan Kowalski/Reuters",
    "Photo: AFP",
    "Workers unload containers at the port on Tuesday.",
    "Politics",
    "0",
    "Why We Wrote This",
    "Москва подтвердила переговоры в понедельник.",
    "  • A list item that explains one point.",
]
news_like = st.lists(
    st.tuples(st.sampled_from(LINES), st.sampled_from(["\n", "\n\n", "\n \n", "\r\n"])),
    max_size=14,
).map(lambda parts: "".join(a + b for a, b in parts))

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.one_of(raw_text, news_like))
def test_span_map_is_exact(raw: str) -> None:
    out = clean(raw)
    assert_exact_map(raw, out)
    assert "\n\n\n" not in out.text
    for line in out.text.split("\n"):
        assert line == line.strip()
    assert not any(ch in out.text for ch in "\u200b\u202e\u2066\ufeff\x00\r\U000e0041")


@FAST
@given(st.one_of(raw_text, news_like))
def test_idempotent(raw: str) -> None:
    once = clean(raw).text
    assert clean(once).text == once


WORDS = [
    "river",
    "port",
    "council",
    "harbour",
    "grain",
    "winter",
    "budget",
    "minister",
    "border",
    "trade",
    "talks",
    "market",
    "city",
    "weather",
    "school",
    "report",
    "farmers",
    "railway",
    "energy",
    "prices",
    "court",
    "ruling",
    "week",
    "region",
    "столица",
    "переговоры",
    "зерно",
    "граница",
    "🙂",
    "déjà",
    "naïve",
    "harvest",
    "storm",
    "bridge",
    "tunnel",
    "airport",
    "union",
    "strike",
    "wages",
    "factory",
    "forest",
    "village",
    "mayor",
    "police",
    "hospital",
    "doctors",
    "nurses",
    "students",
    "exam",
    "museum",
    "library",
    "garden",
    "ferry",
    "coast",
    "island",
    "mountain",
    "valley",
    "highway",
    "tram",
    "bus",
    "drivers",
    "pilots",
    "cargo",
    "steel",
    "copper",
    "wheat",
    "rice",
    "coffee",
    "tea",
    "sugar",
    "salt",
    "water",
    "power",
    "solar",
    "wind",
    "coal",
    "oil",
    "gas",
    "pipeline",
    "harbor",
    "canal",
    "dam",
    "lake",
    "flood",
]


@st.composite
def prose_docs(draw: st.DrawFn) -> list[list[str]]:
    n = 0
    paras = []
    for _ in range(draw(st.integers(1, 6))):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            sents = []
            for _ in range(draw(st.integers(1, 3))):
                n += 1
                words = draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=12, unique=True))
                words.insert(draw(st.integers(0, len(words))), f"item{n}")
                sents.append(" ".join(words).capitalize() + draw(st.sampled_from(".?!")))
            lines.append(" ".join(sents))
        paras.append(lines)
    # plain prose means no repeated blocks: keep any two lines' vocabularies apart
    vocab = [set(ln.lower().split()) for p in paras for ln in p]
    for i, a in enumerate(vocab):
        for b in vocab[:i]:
            assume(len(a & b) < 0.5 * len(a | b))
    return paras


@FAST
@given(prose_docs(), st.sampled_from(["", " ", "\t", "  "]))
def test_plain_prose_loses_nothing(paras: list[list[str]], pad: str) -> None:
    raw = "\n\n".join("\n".join(pad + ln + pad for ln in p) for p in paras)
    out = clean(raw)
    assert out.text == "\n\n".join("\n".join(p) for p in paras)
    assert_exact_map(raw, out)


# --- seeds ----------------------------------------------------------------------------------

# Article text per seed, as the start of each raw line judged to be article text.
ARTICLE = {
    "000": [
        "Source: Telegram channel",
        "Yesterday, the Supreme Court",
        "We discussed the new status",
        "- What new opportunities",
        "- The exclusion of the Afghan Taliban",
        "- Can this step",
        "- No, this gesture alone",
        "- How do you see the prospects",
        "- They will remain",
    ],
    "001": [
        "Russia is reportedly preparing",
        "Gazeta.ru, citing",
        "The Special Representative",
        "Kabulov added",
        "Earlier, an official representative",
        "Smadiyarov said Astana",
        "These two decisions",
        "Tajik expert Rahmatullo",
        "Regarding the impact",
        "“Recognition of the Taliban",
        "Relations between the Taliban leadership",
        "Some Afghan media outlets",
    ],
    "002": [
        "On April 17, 2025",
        "For over two decades",
        "Reasons Behind Russia’s Decision",
        "The removal of the Taliban from Russia’s",
        "1. Counterterrorism Cooperation",
        "2. Regional Security",
        "3. Geopolitical and Economic",
        "Implications of the Decision",
        "• Normalization of Relations",
        "• Impact on International",
        "• Challenges for Western",
        "• Security Cooperation",
        "• Humanitarian and Refugee",
        "A Strategic Shift in Regional",
        "Russia’s removal of the Taliban",
    ],
    "003": [
        "Why does Russia want to recognize",
        "Graveyard of empires",
        "Despite being officially",
        "For example, Kazakhstan",
        "In 2003, the Russian Supreme Court",
        "The American withdrawal",
        "Nevertheless, maintaining",
        "Why The Taliban Government Is Still Not In Place",
        "Indeed, since ascending",
        "In this vein",
        "Moreover, the permanent",
        "As such, Moscow",
        "The likely next step",
    ],
    "004": [
        "Almost no one recognizes the Taliban",
        "Earlier this month, a Taliban delegation",
        "The sight highlighted",
        "Why We Wrote This",
        "Much of the world regards",
        "“We have always believed",
        "Security seems to be",
        "“Russia hopes to enlist",
        "As Russia’s showcase",
        "A delegation from Afghanistan’s",
        "Indeed, at least one",
        "Nonetheless, the sight",
        "Moscow never closed",
        "“It’s not a matter",
    ],
}
CHROME = [
    "Subscribe",
    "Please log in",
    "Reactions",
    "Latest news",
    "NASA cancels",
    "COP29",
    "F-16",
    "Previous Article",
    "Dmitri Lovetsky/AP",
    "People are mirrored in a glass ceiling",
    "Akira Toriyama",
    "Read also",
    "Already reacted",
    "Your email address",
    "All news",
    "Geopolitics",
    "Catch Me If You Can",
    "Caliber.Az on YouTube",
    "19 July 2024",
]


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned() -> dict[str, tuple[str, CleanText]]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    return {k: (seed(k), clean(seed(k))) for k in ARTICLE}


@pytest.mark.parametrize("key", sorted(ARTICLE))
def test_seed_article_text_survives(key: str, cleaned: dict[str, tuple[str, CleanText]]) -> None:
    raw, out = cleaned[key]
    assert_exact_map(raw, out)
    lines = [ln.strip() for ln in raw.splitlines() if ln.strip()]
    for start in ARTICLE[key]:
        (line,) = [ln for ln in lines if ln.startswith(start)][:1]
        assert ws(line) in ws(out.text), line


@pytest.mark.parametrize("key", sorted(ARTICLE))
def test_seed_chrome_removed(key: str, cleaned: dict[str, tuple[str, CleanText]]) -> None:
    text = cleaned[key][1].text
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_seed_repeats_removed(cleaned: dict[str, tuple[str, CleanText]]) -> None:
    text4 = cleaned["004"][1].text
    assert text4.count("Why We Wrote This") == 1
    assert text4.count("Much of the world regards") == 1
    assert text4.count("We have always believed that we need to deal with reality") == 1
    text0 = cleaned["000"][1].text
    assert text0.count("Russia de facto interacts with the Taliban") == 1
    assert text0.startswith("Source: Telegram channel")
    assert cleaned["002"][1].text.startswith("On April 17, 2025")
    assert cleaned["004"][1].text.startswith("Almost no one recognizes")


# --- synthetic pages ----------------------------------------------------------------------

PAGE_ONE = """World

Port reopens after three-week flood closure

By Jane Example

The river port of Eastvale reopened on Tuesday after a three-week flood closure, officials said.

“We lost three weeks of trade, but the quays held.”

Ships lined up for miles. “We lost three weeks of trade, but the quays held,” said harbour
master Ana Ruiz, adding that repairs would continue.

Key facts: the port handles a third of the region’s grain exports every year.

Jan Kowalski/Reuters

Dock workers unload containers at the reopened port on Tuesday. The port handles most grain.

Repairs cost less than feared.

Key facts: the port handles a third of the region’s grain exports every year.

What comes next

  1. Dredging of the channel will start in May.
  2. A new flood wall is planned.

Traders expect volumes to recover by the summer, according to the chamber of commerce.

More stories

Flood barriers to be raised in coastal towns

3 hours ago

Council approves new bus routes

5 hours ago

Storm warning issued for the weekend

1 day ago
"""


def test_synthetic_page_one() -> None:
    out = clean(PAGE_ONE)
    assert_exact_map(PAGE_ONE, out)
    assert out.text.startswith("Port reopens after three-week flood closure\n\nThe river port")
    assert out.text.endswith("according to the chamber of commerce.")
    for gone in (
        "World\n",
        "By Jane",
        "Kowalski",
        "Dock workers",
        "More stories",
        "hours ago",
        "Flood barriers",
        "Storm warning",
    ):
        assert gone not in out.text, gone
    assert out.text.count("Key facts") == 1
    assert out.text.count("We lost three weeks of trade") == 1
    assert "harbour master Ana Ruiz" in ws(out.text)
    for kept in (
        "Repairs cost less than feared.",
        "What comes next",
        "1. Dredging",
        "2. A new flood wall is planned.",
    ):
        assert kept in out.text, kept


PAGE_TWO = """Home | Business | Energy

Posted 12 March 2024 at 09:30

Share this article

Wind farm approved despite objections

Regulators approved the northern wind farm on Monday, ending a two-year planning fight.
Residents had argued that the turbines would spoil the view.

Photo: AFP

A turbine blade is lifted into place near the coast. Construction starts in June.

The operator says the farm will power 200,000 homes.

Related articles:

Solar subsidy cut sparks protest
July 19, 2024
Grid operator warns of winter shortfall
July 18, 2024

Follow us on Facebook
Leave a comment
© 2024 Example Media. All rights reserved.
"""


def test_synthetic_page_two() -> None:
    out = clean(PAGE_TWO)
    assert_exact_map(PAGE_TWO, out)
    assert out.text == (
        "Wind farm approved despite objections\n\n"
        "Regulators approved the northern wind farm on Monday, ending a two-year planning fight.\n"
        "Residents had argued that the turbines would spoil the view.\n\n"
        "The operator says the farm will power 200,000 homes."
    )


def test_headline_tail_without_heading() -> None:
    raw = (
        "The council voted to extend the tram line to the airport by 2027.\n\n"
        "Critics said the cost estimate was unrealistic.\n\n"
        "Mayor defends budget plan\n\n2 hours ago\n\nSchools close early for the holidays?\n\n"
        "Dec 3, 2024\n\nNew bridge opens to traffic\n\n5 hours ago\n"
    )
    assert clean(raw).text == (
        "The council voted to extend the tram line to the airport by 2027.\n\n"
        "Critics said the cost estimate was unrealistic."
    )


def test_short_body_paragraphs_and_questions_stay() -> None:
    raw = (
        "The report was published on Monday by the agency.\n\nHe declined to comment.\n\n"
        "Background\n\nThe dispute began in 2019 over fishing rights.\n\n"
        "Will the deal hold?"
    )
    assert clean(raw).text == raw


def test_link_list_mid_article_without_timestamps() -> None:
    raw = (
        "Prices rose for the third month in a row, the statistics office said on Friday.\n\n"
        "READ MORE:\n\nCentral bank holds rates steady\nWhat higher prices mean for renters\n"
        "Why fuel costs keep climbing\n\n"
        "Food and energy drove most of the increase, while clothing prices fell in May.\n\n"
        "Economists expect inflation to ease later in the year."
    )
    out = clean(raw)
    assert out.text == (
        "Prices rose for the third month in a row, the statistics office said on Friday.\n\n"
        "Food and energy drove most of the increase, while clothing prices fell in May.\n\n"
        "Economists expect inflation to ease later in the year."
    )
    assert_exact_map(raw, out)
