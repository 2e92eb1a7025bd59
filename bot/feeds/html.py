"""HTML fragments (feed summaries, `content:encoded`) to plain-text paragraphs."""

from __future__ import annotations

BLOCKS = {"p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dd", "dt", "figcaption", "td"}
DROP = {"script", "style", "noscript", "iframe", "form", "button", "svg", "nav", "footer", "aside"}


def html_to_paragraphs(html: str) -> list[str]:
    """One paragraph per block element (or the whole text when there are none); markup is gone,
    the text itself (including any `<!channel>`-like text) is kept literally for later escaping."""
    if not html or not html.strip():
        return []
    import lxml.html  # ~0.1 s to import: on the first feed entry, not at every start of the bot
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return [" ".join(html.split())] if html.strip() else []
    for bad in [el for el in root.iter() if isinstance(el.tag, str) and el.tag in DROP]:
        bad.drop_tree()
    for br in root.iter("br"):
        br.tail = "\n\n" + (br.tail or "")
    blocks = [el for el in root.iter() if isinstance(el.tag, str) and el.tag in BLOCKS
              and not any(isinstance(a.tag, str) and a.tag in BLOCKS for a in el.iterancestors())]
    texts = [el.text_content() for el in blocks] if blocks else [root.text_content()]
    paragraphs = []
    for text in texts:
        for piece in text.split("\n\n"):
            piece = " ".join(piece.split())
            if piece:
                paragraphs.append(piece)
    return paragraphs
