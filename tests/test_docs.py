"""The docs describe the product as it is: no diary outside docs/history.md, and no broken relative link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HISTORY = ROOT / "docs" / "history.md"
DIARY = re.compile(
    r"(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|this|last|next|earlier) session"
    r"|round [0-9]|issue [0-9]",
    re.IGNORECASE,
)
"""The same pattern as `grep -rniE "..." README.md docs/`."""

MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def _diary_hits() -> list[str]:
    files = [ROOT / "README.md", *(p for p in sorted((ROOT / "docs").rglob("*")) if p.is_file())]
    hits = []
    for path in files:
        if path == HISTORY:
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if DIARY.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    return hits


def test_no_diary_outside_the_history_page():
    assert HISTORY.is_file()
    hits = _diary_hits()
    assert not hits, "how the product was made belongs in docs/history.md:\n" + "\n".join(hits)


def test_the_diary_pattern_finds_what_it_should():
    for line in [
        "Looked at on 2026-12-02 (eighth session)",
        "round 12 fails",
        "the targets of Issue 10",
        "as this session allows",
        "earlier session",
    ]:
        assert DIARY.search(line), line
    for line in ["fp16 rounds the offset", "a push round trip", "the tab's session storage"]:
        assert not DIARY.search(line), line


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file, and explicit <a id=...> / <a name=...>."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    anchors, seen = set(), {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    anchors.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", text))
    return anchors


def _links(path: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text)


@pytest.mark.parametrize("doc", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(doc):
    broken = []
    for target in _links(doc):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        if not dest.exists():
            broken.append(f"{target} (no {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest})")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.relative_to(ROOT)})")
    assert not broken, f"{doc.relative_to(ROOT)}: broken links:\n" + "\n".join(broken)


def test_the_link_checker_sees_links():
    readme = _links(ROOT / "README.md")
    assert "docs/images/before_after.jpg" in readme and "docs/benchmarks.md" in readme
