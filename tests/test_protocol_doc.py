"""The code's references to the wire protocol point at a document in this repository, at a section that
exists.

Why this exists: docstrings that cite a spec file kept outside the repository send a reader nowhere. The
SDK and the gateway cite ``docs/protocol.md §X.Y`` (Part 1, numbered as the protocol's sections) or
``§VX.Y`` (Part 2, the dated API versions); this test reads every module and checks each citation
against the document's headings, and that no module names a ``.md`` file the repository does not have.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "protocol.md"
CODE_ROOTS = ("meshapi", "meshapi_gateway")

# `docs/protocol.md §3.2-3.4, §4.1` (a citation may wrap onto the next line, or into a comment)
_CITATION = re.compile(
    r"docs/protocol\.md((?:[\s,#]*(?:and\s+)?§\s*[A-Z]?\d+(?:\.\d+)?(?:\s*-\s*\d+(?:\.\d+)?)?)+)"
)
_SECTION = re.compile(r"§\s*([A-Z]?)(\d+)(?:\.(\d+))?(?:\s*-\s*(\d+)(?:\.(\d+))?)?")
# any `name.md` or `path/name.md` mentioned in code
_MARKDOWN = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")


def _modules() -> List[Path]:
    return [
        path
        for top in CODE_ROOTS
        if (ROOT / top).is_dir()
        for path in sorted((ROOT / top).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def doc_sections() -> Set[str]:
    """Section numbers the document has: ``4``, ``4.5``, ``V10``, ``V10.4``, ``A``..."""
    sections: Set[str] = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#{1,4} (?:Appendix ([A-Z])\b|(V?\d+)(?:\.(\d+))?[. ])", line)
        if not match:
            continue
        appendix, major, minor = match.groups()
        if appendix:
            sections.add(appendix)
        elif minor:
            sections.add(f"{major}.{minor}")
        else:
            sections.add(major)
    return sections


def cited_sections(text: str) -> List[str]:
    """Every section a text cites; a range ``§3.2-3.4`` cites both ends and what lies between."""
    cited: List[str] = []
    for citation in _CITATION.finditer(text):
        for prefix, major, minor, end_major, end_minor in _SECTION.findall(citation.group(1)):
            if not minor:
                cited.append(f"{prefix}{major}")
                continue
            cited.append(f"{prefix}{major}.{minor}")
            if end_major:
                last_major, last_minor = (end_major, end_minor) if end_minor else (major, end_major)
                if last_major == major:
                    cited += [f"{prefix}{major}.{n}" for n in range(int(minor) + 1, int(last_minor) + 1)]
                else:
                    cited.append(f"{prefix}{last_major}.{last_minor}")
    return cited


def _citations() -> Dict[str, List[Tuple[str, int]]]:
    found: Dict[str, List[Tuple[str, int]]] = {}
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for citation in _CITATION.finditer(text):
            line = text.count("\n", 0, citation.start()) + 1
            for section in cited_sections(citation.group(0)):
                found.setdefault(section, []).append((str(path.relative_to(ROOT)), line))
    return found


def test_the_document_keeps_the_protocol_numbering() -> None:
    sections = doc_sections()
    # every section of the protocol, Part 1 (§1.1 ... §7.7, appendices) and Part 2 (§V1 ... §V16)
    expected = {"1.9", "2.6", "3.6", "4.15", "5.7", "6.5", "7.7", "8", "A", "B", "C", "V1.5", "V10.4", "V16"}
    assert expected <= sections, sorted(expected - sections)


def test_every_cited_section_exists() -> None:
    sections = doc_sections()
    missing = {s: where for s, where in _citations().items() if s not in sections}
    assert not missing, "docs/protocol.md has no such section: " + "; ".join(
        f"§{s} (cited at {', '.join(f'{p}:{n}' for p, n in where)})" for s, where in sorted(missing.items())
    )


def test_no_module_cites_a_document_the_repository_does_not_have() -> None:
    problems = []
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        for match in _MARKDOWN.finditer(text):
            name = match.group(1)
            if not (ROOT / name).is_file():
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line} cites {name}")
    assert not problems, "cited documents that are not in the repository:\n" + "\n".join(problems)


def test_the_citation_reader() -> None:
    text = "see docs/protocol.md §3.2-3.4, §4.1 and docs/protocol.md\n    §V10.4; (docs/protocol.md §7)"
    assert cited_sections(text) == ["3.2", "3.3", "3.4", "4.1", "V10.4", "7"]
    assert {"1.1", "7.7", "4", "A", "V10.4", "V16"} <= doc_sections()
