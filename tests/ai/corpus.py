"""Varied texts for the embedding tests and benchmarks (deterministic)."""

from __future__ import annotations

import random

_WORDS = (
    "route freight vehicle warehouse demand forecast robot sensor battery energy terrain elevation price "
    "store product weekly sales holiday promotion cost emission truck diesel electric charging depot "
    "delivery window customer invoice policy model training retrieval search index vector document "
    "question answer river mountain city harbour railway bridge summer winter market coffee bread"
).split()

FIXED = [
    "",
    " ",
    "a",
    "Hello, world!",
    "HELLO WORLD",
    "The quick brown fox jumps over the lazy dog.",
    "Ünïcödé àccents: café, naïve, Straße, Ångström, façade.",
    "日本語のテキストと中文文本\uff0c还有한국어 문장.",
    "Русский текст и ελληνικά γράμματα, עברית, العربية.",
    "Emoji 🚀🔥👍 and symbols ∑∫√∞ ≤ ≥ ≠ ±",
    "def f(x: int) -> int:\n    return x ** 2  # square\n",
    "SELECT id, name FROM users WHERE age > 30 ORDER BY name;",
    '{"key": [1, 2, 3], "nested": {"a": null, "b": true}}',
    "3.14159 2.71828 1e-12 -42 0x1F 1,000,000 2026-12-01T08:59:23Z +44 20 7946 0958",
    "https://example.com/path?query=1&other=two#frag",
    "\t\ttabs\nand\r\nnewlines\n\n",
    "word " * 400,  # far past 256 word pieces
    "Supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic",
]


def varied_texts(n: int = 300, seed: int = 7) -> list[str]:
    """``FIXED`` plus generated sentences of 1 to ~600 word pieces."""
    rng = random.Random(seed)
    out = list(FIXED)
    while len(out) < n:
        kind = rng.random()
        if kind < 0.5:
            length = rng.randint(1, 12)
        elif kind < 0.9:
            length = rng.randint(13, 80)
        else:
            length = rng.randint(200, 400)
        words = [rng.choice(_WORDS) for _ in range(length)]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), str(rng.randint(0, 10**6)))
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words) + 1), rng.choice(["naïve", "日本", "Zürich", "→", "ß"]))
        text = " ".join(words)
        out.append(text.capitalize() + rng.choice([".", "?", "!", ""]))
    return out


def short_queries(n: int, seed: int = 11) -> list[str]:
    """``n`` distinct search-style queries of 3 to 9 words."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        q = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9)))
        if q not in seen:
            seen.add(q)
            out.append(q)
    return out


def passages(n: int, words: int = 160, seed: int = 13) -> list[str]:
    """``n`` passages of about ``words`` words (~200 word pieces with punctuation and numbers)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        sentences = []
        count = 0
        while count < words:
            length = rng.randint(8, 20)
            s = " ".join(rng.choice(_WORDS) for _ in range(length))
            if rng.random() < 0.4:
                s += f" {rng.randint(1, 9999)}"
            sentences.append(s.capitalize() + ".")
            count += length
        out.append(" ".join(sentences))
    return out
