"""Hypothesis strategies for hostile text: Slack control sequences raw and entity-encoded,
markup characters, invisible and bidi controls, C0 controls, long runs and odd Unicode."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

TOKENS = (
    "<!channel>", "<!here>", "<!everyone>", "<!here|here>", "<!subteam^S0EVIL|@trade-team>", "<!date^1392734382^x|y>",
    "<@U0EVIL>", "<@W0EVIL|the boss>", "<#C0EVIL>", "<#C0EVIL|general>",
    "<https://evil.example|Reuters>", "<https://evil.example>", "<http://evil.example/login|Read article>",
    "<mailto:boss@evil.example|boss>", "<slack://open|x>",
)


def entity_encode(text: str) -> str:
    """How Slack delivers typed `&`, `<`, `>` in slash-command and message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ENCODED = tuple(entity_encode(t) for t in TOKENS) + tuple(entity_encode(entity_encode(t)) for t in TOKENS[:4])
PIECES = ("&", "<", ">", "|", "&amp;", "&lt;", "&gt;", "&#60;", "&#x3C;", "*", "_", "~", "`", ">>>", "```",
          "<<", ">>", "<|>", "||", "\\", '"', "'", "%", "(((", ".*")
INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202a", "\u202b", "\u202c", "\u202d",
             "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f")
CONTROLS = tuple(chr(c) for c in (*range(9), 11, 12, *range(14, 32), 127, 0x85, 0x9b))
WORDS = ("tariffs", "china", "greer", "bessent", "trade", "rare", "earths", "soybeans", "who", "latest",
         "source:", "since:2025-06-01", "-nvidia", '"rare earths"', "ＴＡＲＩＦＦＳ", "黃仁勳", "👩🏽‍💻", "é", "e\u0301")

odd_unicode = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12)
long_run = st.builds(lambda piece, n: piece * n, st.sampled_from(("<", "&", "a", "<!here>", "\u200b", "|", "é")),
                     st.integers(50, 600))
piece = st.one_of(
    st.sampled_from(TOKENS), st.sampled_from(ENCODED), st.sampled_from(PIECES), st.sampled_from(INVISIBLE),
    st.sampled_from(CONTROLS), st.sampled_from(WORDS), odd_unicode,
)
hostile_text = st.builds(
    lambda parts, sep, tail: sep.join(parts) + tail,
    st.lists(piece, min_size=1, max_size=8), st.sampled_from((" ", "", "  ", "\t")),
    st.one_of(st.just(""), long_run),
)
# Text that always carries at least one control sequence, raw or encoded.
with_token = st.builds(lambda a, t, b: f"{a} {t} {b}", hostile_text, st.sampled_from(TOKENS + ENCODED), hostile_text)


def property_settings(examples: int) -> settings:
    """The settings every hostile property uses: `examples` per test (times
    TRADEBOT_HOSTILE_SCALE, default 1, for a longer hunt), no deadline, no shrinking
    (each example drives the live bot; the failing example is printed as found), no
    example database (no files in the work tree)."""
    scale = float(os.environ.get("TRADEBOT_HOSTILE_SCALE", "1"))
    return settings(max_examples=max(1, int(examples * scale)), deadline=None, database=None,
                    phases=(Phase.explicit, Phase.generate),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
