"""The chrome rules as constants: the phrases, headings, labels and patterns that mark a line.

Each rule is general (a kind of prompt, widget or credit in several common wordings), never a
string of one site: `CHROME_PHRASES` (subscribe/share/follow prompts, comment and reaction
widgets, pagination, ads, copyright, reporting credits), `LINK_LIST_HEADINGS` (headings that open
a block of links to other stories), `SECTION_LABELS` (section and menu names), dates and times,
news-agency photo credits, bylines and share bars. Each compiled pattern matches a whole line.

Left out on purpose: no logic beyond the patterns themselves; which kind a line is (`classify`)
and what is dropped where (`blocks`, `pipeline`) are decided elsewhere.
"""

from __future__ import annotations

import re

# Full-line patterns (case-insensitive) for site chrome, in several common wordings.
CHROME_PHRASES: tuple[str, ...] = (
    r"(?:please\s+)?(?:subscribe|sign\s+up|join|follow)(?:\s+(?:now|today|us|here|for\s+free))*"
    r"(?:\s+(?:to|for|on|in|at|via)\s+.{0,60})?",
    r"share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?(?:\s+(?:on|via|with)\s+.{0,40})?",
    r"(?:\d+\s+)?(?:comments?|reactions?|replies|likes?|shares?|views?|votes?)(?:\s*[:(]?\s*\d+\)?)?",
    r"already\s+(?:reacted|voted|liked|rated)\b.*",
    r"(?:please\s+)?(?:log\s*in|sign\s*in|register)(?:\s+(?:or|and)\s+(?:register|sign\s*up|log\s*in|"
    r"sign\s*in))?(?:\s+to\s+.{0,40})?",
    r"you\s+must\s+be\s+(?:logged|signed)\s+in\b.*",
    r"your\s+email\s+address\s+will\s+not\s+be\s+published\b.*",
    r"required\s+fields\s+are\s+marked\b.*",
    r"(?:leave|post|add|write)\s+a\s+(?:comment|reply|review)\b.*",
    r"(?:(?:previous|prev\.?|next|older|newer)\s*(?:article|post|story|page|entry)?\s*[»«›‹<>]*\s*)+",
    r"(?:all|more|latest|other)\s+(?:news|stories|articles|posts|headlines)",
    r"advertisement|advertising|sponsored(?:\s+content)?|ad|promoted|partner\s+content",
    r"skip\s+to\s+(?:main\s+)?content|back\s+to\s+top|(?:jump|scroll)\s+to\s+.{0,30}",
    r"(?:read|see)\s+(?:more|also|next)(?:\s*[:|»›>\-–—]\s*.{0,150})?",
    r"also\s+read(?:\s*[:|»›>\-–—]\s*.{0,150})?",
    r"(?:click|tap)\s+here\b.*",
    r"listen\s+to\s+(?:this\s+)?(?:article|story)\b.*|\d+\s*min(?:ute)?s?\s+read|reading\s+time\b.*",
    r"(?:©|\(c\)\s|copyright\b).*|.{0,80}all\s+rights\s+reserved\.?",
    r"(?:tags?|topics?|filed\s+under|categories|category)\s*:.*",
    r"(?:privacy\s+policy|terms\s+(?:of\s+(?:use|service)|and\s+conditions)|cookie\s+(?:policy|"
    r"settings)|accept(?:\s+all)?\s+cookies|we\s+use\s+cookies)\b.*",
    r"loading\W*|please\s+wait\W*",
    r".{1,40}\s+on\s+(?:youtube|telegram|facebook|twitter|x|instagram|tiktok|whatsapp|linkedin|"
    r"google\s+news)",
    r"(?:download|get)\s+(?:our|the)\s+(?:free\s+)?app\b.*",
    r"(?:story|article)\s+continues\s+(?:below|after).*",
    r"(?:show|hide)\s+(?:comments|caption|more|less)",
    r"continue\s+reading\b.*|reuse\s+this\s+content|ad\s+feedback|link\s+copied\W*",
    r"(?:watch|listen)\s*:\s*.{1,150}|page\s+\d+\s+(?:of|/)\s+\d+|toggle\s+navigation",
    r".{0,80}\b(?:to|in)\s+your\s+inbox\b.{0,40}",
    r".{1,80}\bcontributed\s+(?:to\s+)?(?:this\s+)?(?:report|story|article)(?:ing)?",
    r"(?:additional\s+)?(?:reporting|writing|editing)\s+by\s+.{1,150}",
)
CHROME_RE = re.compile(r"(?:" + "|".join(CHROME_PHRASES) + r")\s*[.!:]?", re.I)

# Headings that open a block of links to other stories.
LINK_LIST_HEADINGS: tuple[str, ...] = (
    r"(?:read|see)\s+(?:also|more|next)",
    r"also\s+read",
    r"related(?:\s+(?:articles?|stories|story|news|posts?|topics|coverage|content|links|reading))?",
    r"more\s+(?:stories|news|articles|headlines|like\s+this|to\s+read|"
    r"on\s+(?:this|these)(?:\s+(?:topics?|story|stories|subjects?|issues?))?|"
    r"from\s+.{1,40}|in\s+.{1,30})",
    r"explore\s+more\b.{0,40}",
    r"(?:the\s+)?(?:latest|top|other|breaking|more|recent)(?:\s+(?:news|stories|headlines|articles|"
    r"posts))?",
    r"you\s+(?:may|might|could)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)",
    r"most\s+(?:read|popular|viewed|shared|commented)|popular(?:\s+(?:now|posts|stories|articles))?",
    r"trending(?:\s+(?:now|stories|news|articles|topics))?",
    r"recommended(?:\s+(?:for\s+you|stories|articles|reading))?",
    r"editor'?s'?\s+picks?|editors'?\s+choice|(?:don't|do\s+not)\s+miss",
    r"further\s+reading|in\s+other\s+news|what\s+to\s+read\s+next|must\s+read|keep\s+reading",
    r"all\s+news|news\s+feed",
)
LINK_HEADING_RE = re.compile(r"(?:" + "|".join(LINK_LIST_HEADINGS) + r")\s*[:»›>.]*", re.I)

# Section/menu labels: dropped only at the document's edges or as a whole menu line.
SECTION_LABELS = frozenset(
    {
        "news",
        "politics",
        "geopolitics",
        "world",
        "business",
        "economy",
        "economics",
        "opinion",
        "opinions",
        "analysis",
        "analytics",
        "sport",
        "sports",
        "tech",
        "technology",
        "science",
        "health",
        "culture",
        "lifestyle",
        "entertainment",
        "travel",
        "europe",
        "asia",
        "africa",
        "americas",
        "us",
        "uk",
        "home",
        "video",
        "videos",
        "photos",
        "gallery",
        "live",
        "latest",
        "features",
        "editorial",
        "commentary",
        "interview",
        "interviews",
        "region",
        "regions",
        "society",
        "security",
        "environment",
        "climate",
        "markets",
        "finance",
        "breaking",
        "exclusive",
        "blog",
        "blogs",
        "podcast",
        "podcasts",
        "magazine",
        "local",
        "national",
        "international",
        "investigations",
        "explainer",
        "reviews",
        "columns",
        "defense",
        "defence",
        "diplomacy",
        "military",
        "energy",
        "menu",
        "search",
        "topics",
        "tags",
        "share",
        "comments",
        "subscribe",
        "middle east",
        "central asia",
        "world news",
    }
)
MENU_SPLIT_RE = re.compile(r"\s*[|/•·>»›,]\s*|\s{2,}")  # between the labels of a menu line

# Dates and times: a line of these, labels and punctuation ("Updated 19 July 2024 - 15:06").
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DATE_TIME_RE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?(?:\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\b{_MONTH}\s+\d{{4}}\b"
    r"|\b\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:T[\d:.]+Z?)?\b|\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?(?:\s*(?-i:[A-Z]{1,4}T)(?:[+-]\d{1,2})?)?"
    r"|\b(?:\d+|an?|one|few)\s+(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|"
    r"years?)\s+ago\b|\b(?:just\s+now|yesterday|today)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b",
    re.I,
)
# A date after one of these is a phrase of the article ("In June 2024"), not a timestamp.
PREPOSITIONS = frozenset(
    {"in", "since", "from", "until", "till", "by", "before", "after", "during", "as", "of", "to"}
)
DATE_FILLER_RE = re.compile(
    r"\b(?:last\s+)?(?:updated|published|posted|modified|at|on|mon|tue|wed|thu|fri|sat|sun)\b"
    r"|[\s,.;|·•\-–—/:()\[\]]+",
    re.I,
)

# Photo credits: a labelled credit, a news agency, "Name Surname/Agency", "Courtesy of ...".
_AGENCIES = (
    r"(?:AP(?:\s+Photo)?|AFP|Reuters|Getty(?:\s+Images)?|EPA(?:-EFE)?|EFE|Bloomberg|Shutterstock|"
    r"Alamy|TASS|Sputnik|RIA\s+Novosti|Anadolu(?:\s+Agency)?|Xinhua|NurPhoto|SOPA\s+Images|"
    r"ZUMA(?:\s+(?:Press|Wire))?|PA(?:\s+(?:Images|Wire|Media))?|Pool|iStock(?:photo)?|DPA|ANSA|"
    r"Kyodo|Yonhap|UPI|Associated\s+Press|Handout|Wikimedia\s+Commons|Unsplash|Sipa(?:\s+USA)?|"
    r"LightRocket|WireImage|Kremlin\.ru|Imago|Abaca)"
)
CREDIT_RES = (  # full-line, optionally in parentheses or brackets
    re.compile(
        r"(?:(?:file\s+)?photo(?:graph)?s?|images?|pictures?|pic|illustration|video|"
        r"(?:photo|image)\s+credit|credits?)\s*(?::|by\b|/|–|—|-|courtesy(?:\s+of)?)\s*.{1,80}",
        re.I,
    ),
    re.compile(
        rf"(?:.{{1,60}}?\s*/\s*|.{{1,60}}\s+(?:via|for)\s+)?{_AGENCIES}(?:\s*/\s*.{{1,60}})?"
    ),
    re.compile(r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3}\s*/\s*[A-Z][\w.&'’ -]{1,40}"),
    re.compile(r"courtesy(?:\s+of)?\s+.{1,60}", re.I),
)
# A caption with its credit at the end of the same line ("... Photograph: Name/Reuters").
CREDIT_SUFFIX_RE = re.compile(
    r".*\b(?:Photograph|Photo|Image|Illustration|Picture)(?:\s+credit)?\s*:\s*[A-Z][^.!?]{1,60}"
)
# A credit naming a photo (not a plain reporting credit): a caption may follow it.
PHOTO_HINT_RE = re.compile(r"/|\bphoto|\bimage|\bvia\b|\bgetty\b|\bcredit|^[(\[]", re.I)
BYLINE_RE = re.compile(  # "By Jane Doe"; the name may be in Cyrillic
    r"(?:[Bb]y|BY|[Ww]ritten\s+by|[Ww]ords\s+by|[Aa]uthor:)\s+[A-ZА-ЯЁ]"
)

# A line made only of these words is a share bar ("Share Tweet Email").
SHARE_WORDS = frozenset(
    {
        "share",
        "tweet",
        "print",
        "email",
        "e-mail",
        "facebook",
        "twitter",
        "x",
        "whatsapp",
        "telegram",
        "linkedin",
        "reddit",
        "pinterest",
        "vk",
        "messenger",
        "flipboard",
        "copy",
        "link",
        "comment",
        "comments",
        "save",
        "bookmark",
    }
)
