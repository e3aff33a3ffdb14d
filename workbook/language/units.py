"""Unit names (牵头单位/配合单位): normalising, splitting, classifying, matching."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .text import normalise_text

_SEPARATORS = "、,，;；/／\n"
# 和/及 join two units only after a complete unit name (市教育局和市人社局); inside a name
# they stay (市住房和城乡建设局, 市文化和旅游局, 市工业和信息化局).
_UNIT_END = "局委办院府区县旗市镇乡街道部队会所站厅室处社团馆行司中心公司集团园联协台校厂"
_CONJUNCTION = re.compile(rf"(?<=[{_UNIT_END}])(?:和|及|以及)(?=\S)")
# A space separates two units only after an organisation's own ending (县教体局 各相关乡镇政府, as 吉水
# publishes); after anything else it is a stray space inside one name (呼和浩特 职业技术大学, 长沙市 发改委).
_SPACE_BETWEEN = re.compile(r"(?<=[局委办院厅室处社团馆行司心团园联台校厂站所会])[ \t\u3000]+(?=\S)")
# A trailing note in brackets, e.g. （提供数据）, is not part of the name.
_NOTE = re.compile(r"[(（]([^()（）]*)[)）]\s*$")
# Collective names (各旗县区, 各街道, 区直各部门, 有关单位) are kept as written and are no one unit's kind.
_COLLECTIVE = re.compile(r"^各|各(?:部门|单位|有关|相关|成员)|有关|相关|等$")
_SHARED_SUFFIX = "政府"
_LEVELS = {"县", "市", "区", "旗", "县区", "市区", "旗县", "乡", "镇", "乡镇", "街道"}  # 各县、市、区政府
_COUNTY_END = ("旗", "县", "区", "市")


@dataclass(frozen=True)
class UnitName:
    name: str
    note: str = ""
    raw: str = ""


def normalise_unit(raw: object) -> str:
    """Fold widths and drop every space: ``呼和浩特 职业技术大学`` → ``呼和浩特职业技术大学``."""
    return re.sub(r"\s+", "", normalise_text(raw)).replace("(", "（").replace(")", "）")


def split_units(cell: object) -> list[UnitName]:
    """Split a unit cell naming several units and move notes out of the names.

    ``土左旗、托县政府`` → 土左旗政府 + 托县政府 (the suffix written once is shared);
    ``国家统计局呼和浩特调查队（提供数据）`` → the unit plus the note 提供数据.
    """
    text = _join_broken_name(normalise_text(cell))
    if not text:
        return []
    parts = _collectives([p for p in (_clean(p) for p in _split(text)) if p[0]])
    if len(parts) > 1 and parts[-1][0].endswith(_SHARED_SUFFIX):
        parts = [
            (name + _SHARED_SUFFIX, note, raw)
            if name.endswith(_COUNTY_END) and not name.endswith(_SHARED_SUFFIX)
            else (name, note, raw)
            for name, note, raw in parts
        ]
    return [UnitName(name, note, raw) for name, note, raw in parts]


def _collectives(parts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """各县、市、区政府 (the governments of every county, city and district) is one collective name:
    a 各… part followed to the end by bare levels (市, 区, 县区 …, the last with 政府)."""
    for i, (name, _, _) in enumerate(parts[:-1]):
        rest = parts[i + 1:]
        if name.startswith("各") and all(n.removesuffix(_SHARED_SUFFIX) in _LEVELS for n, _, _ in rest):
            joined = "、".join(n for n, _, _ in parts[i:])
            return parts[:i] + [(joined, rest[-1][1], "、".join(raw for _, _, raw in parts[i:]))]
    return parts


def _join_broken_name(text: str) -> str:
    """A name written down a narrow cell a few characters a line (市政 / 府办 / 公厅) is one name.

    Lines that each end a unit name (县教科局 / 县财政局) are several units; a line that ends
    mid-name (市政, 长沙, 市) means the cell's line breaks only wrap one name.
    """
    lines = [line.strip() for line in text.split("\n")]
    if len(lines) > 1 and any(line and line[-1] not in _UNIT_END + _SEPARATORS + ")）" for line in lines[:-1]):
        return "".join(lines)
    return text


def unit_list(cell: object) -> list[str]:
    """The unit names of a master's 牵头单位 or 配合单位 cell (names joined by 、; a name's own
    brackets, as in 各县（市、区）政府, and a collective 各县、市、区政府 are not split)."""
    names = [name for name in (part.strip() for part in _split("" if cell is None else str(cell))) if name]
    return [name for name, _, _ in _collectives([(name, "", name) for name in names])]


def _split(text: str) -> list[str]:
    """Split on the separators outside brackets: a note (提供数据、核算) stays whole."""
    out, current, depth = [], "", 0
    for ch in _SPACE_BETWEEN.sub("、", _CONJUNCTION.sub("、", text)):
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth = max(depth - 1, 0)
        if ch in _SEPARATORS and depth == 0:
            out.append(current)
            current = ""
        else:
            current += ch
    return [*out, current]


def _clean(part: str) -> tuple[str, str, str]:
    raw = part.strip()
    note = ""
    m = _NOTE.search(raw)
    if m:
        note = m.group(1).strip()
        raw_name = raw[: m.start()]
    else:
        raw_name = raw
    if raw_name.endswith("等") and len(raw_name) > 3:  # 市卫生健康委等: the unit, "and others" as a note
        raw_name, note = raw_name[:-1], note or "等"
    return normalise_unit(raw_name), note, raw


def join_units(names: list[str]) -> str:
    return "、".join(names)


def unit_kind(name: str) -> str:
    if _COLLECTIVE.search(name):
        return "其他"
    if re.search(r"开发区|新区|综保区|高新区|园区", name):
        return "开发区"
    if re.search(r"(旗|县|区)(人民)?政府$", name):
        return "旗县区"
    if name.startswith("市"):
        return "市直部门"
    return "其他"


@dataclass
class UnitDirectory:
    """The known units of a master: canonical names and their aliases."""

    names: dict[str, None] = field(default_factory=dict)  # canonical names in order (a dict: O(1) lookups)
    aliases: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, *aliases: str) -> None:
        self.names.setdefault(name)
        for alias in aliases:
            if alias and alias != name:
                self.aliases[alias] = name

    def canonical(self, raw: str) -> str | None:
        """The canonical name for ``raw`` (exact, alias or normalised form), else None."""
        if raw in self.names:
            return raw
        if raw in self.aliases:
            return self.aliases[raw]
        norm = normalise_unit(raw)
        if norm in self.names:
            return norm
        return self.aliases.get(norm)

    def closest(self, raw: str) -> str | None:
        names = self.closest_names(raw, 1)
        return names[0] if names else None

    def closest_names(self, raw: str, n: int = 3) -> list[str]:
        """Known names that look like ``raw`` (a typo, or a longer or shorter form), closest first."""
        norm = normalise_unit(raw)
        hits = difflib.get_close_matches(norm, self.names, n=n, cutoff=0.5)
        if hits:  # the closest, and others only when they are about as close (a shared 市…局 is not)
            return hits[:1] + [h for h in hits[1:] if difflib.SequenceMatcher(None, norm, h).ratio() >= 0.6]
        contained = [name for name in self.names if norm and (norm in name or name in norm)]
        return contained if len(contained) <= n else []
