"""The quote set seeded into an empty ``genai_quotes`` table: traditional proverbs (public domain,
attributed to the tradition they come from) and short lines written for Ridgeline.
Each entry is ``(text, author, source, tags)``."""

from __future__ import annotations

QUOTES: tuple[tuple[str, str, str | None, list[str]], ...] = (
    (
        "A journey of a thousand miles begins with a single step.",
        "Traditional",
        "Chinese proverb",
        ["persistence"],
    ),
    ("Measure twice, cut once.", "Traditional", "English proverb", ["craft", "care"]),
    ("Many hands make light work.", "Traditional", "English proverb", ["teamwork"]),
    ("Still waters run deep.", "Traditional", "English proverb", ["patience"]),
    ("Fall seven times, stand up eight.", "Traditional", "Japanese proverb", ["persistence"]),
    (
        "The best time to plant a tree was years ago; the second best time is now.",
        "Traditional",
        "Proverb",
        ["action"],
    ),
    ("Little by little, the bird builds its nest.", "Traditional", "French proverb", ["patience", "craft"]),
    (
        "When the wind blows, some build walls and others build windmills.",
        "Traditional",
        "Chinese proverb",
        ["change"],
    ),
    (
        "If you want to go fast, go alone; if you want to go far, go together.",
        "Traditional",
        "Proverb",
        ["teamwork"],
    ),
    ("A smooth sea never made a skilled sailor.", "Traditional", "English proverb", ["learning"]),
    ("Where there is a will, there is a way.", "Traditional", "English proverb", ["persistence"]),
    (
        "Knowledge is a treasure, but practice is the key to it.",
        "Traditional",
        "Proverb",
        ["learning", "craft"],
    ),
    ("Measure what matters, then make it faster.", "Ridgeline", None, ["performance", "craft"]),
    ("A test that cannot fail proves nothing.", "Ridgeline", None, ["testing", "care"]),
    (
        "Write the error message for the person reading it at three in the morning.",
        "Ridgeline",
        None,
        ["care"],
    ),
    ("Small commits, honest messages.", "Ridgeline", None, ["craft", "teamwork"]),
    ("The fastest code is the code that does not run.", "Ridgeline", None, ["performance"]),
    ("Fail closed, explain clearly.", "Ridgeline", None, ["security", "care"]),
    ("Every default is a decision someone will live with.", "Ridgeline", None, ["design"]),
    (
        "A map is not the territory, but a good one saves the journey.",
        "Ridgeline",
        None,
        ["design", "learning"],
    ),
)
