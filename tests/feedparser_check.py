#!/usr/bin/env python3
"""Reads every RSS and Atom file of a wirefeed output folder with Python's
feedparser, as many feed readers do, and compares what it understood with
the JSON Feed of the same feed (the reference copy; for a feed written
without JSON Feed, the Atom file is the reference of the RSS file).

Fails (exit 1) on a feed feedparser calls malformed ("bozo") and on every
field that differs, naming the file, the item and the field.

    python3 tests/feedparser_check.py feeds/
"""

import calendar
import json
import pathlib
import sys
from datetime import datetime
from html.parser import HTMLParser

import feedparser


class Tokens(HTMLParser):
    """HTML as a list of (kind, tag, sorted attributes / text) tokens, so
    that two serializations of the same markup compare equal (feedparser
    re-serializes HTML: `&#39;` becomes `'`, `<img>` becomes `<img />`,
    attributes may move)."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.feed(markup or "")
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("start", tag, tuple(sorted(attrs))))

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag not in ("img", "br", "hr"):
            self.tokens.append(("end", tag, ()))

    def handle_data(self, data):
        if self.tokens and self.tokens[-1][0] == "data":
            self.tokens[-1] = ("data", "", self.tokens[-1][2] + data)
        else:
            self.tokens.append(("data", "", data))


def same_html(a, b):
    return Tokens(a).tokens == Tokens(b).tokens


class Text(HTMLParser):
    """The text a reader shows for HTML: tags dropped, references decoded."""

    def __init__(self, markup):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.feed(markup)
        self.close()

    def handle_data(self, data):
        self.parts.append(data)


def shown(value, detail):
    """What a reader shows for a text field: plain text as it is, HTML as
    its text. wirefeed writes text that looks like HTML (`</b>`, `&amp;`)
    as HTML escaped once more (Atom `type="html"`; RSS titles, which
    feedparser then reads as HTML), so that readers show it as written."""
    if value is None:
        return None
    kind = (detail or {}).get("type", "text/plain")
    if kind in ("text/html", "application/xhtml+xml"):
        return "".join(Text(value).parts)
    return value


def utc(value):
    """Seconds since the epoch of an RFC 3339 string or a struct_time."""
    if value is None:
        return None
    if isinstance(value, str):
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    return calendar.timegm(value)


def from_json(path):
    feed = json.loads(path.read_text(encoding="utf-8"))
    items = {}
    for item in feed["items"]:
        items[item["id"]] = {
            "title": item["title"],
            "link": item.get("url"),
            "authors": [a["name"] for a in item.get("authors", [])],
            "published": utc(item["date_published"]),
            "updated": utc(item.get("date_modified")),
            "tags": item.get("tags", []),
            "summary": item.get("summary"),
            "content": item["content_html"],
        }
    return feed["title"], items


def from_feedparser(path):
    parsed = feedparser.parse(str(path))
    if parsed.bozo:
        raise SystemExit(f"{path}: feedparser says malformed: {parsed.bozo_exception}")
    items = {}
    for entry in parsed.entries:
        # RSS description is HTML: wirefeed writes the summary escaped.
        summary = shown(entry.get("summary"), entry.get("summary_detail"))
        content = entry.get("content", [{}])[0].get("value")
        items[entry.id] = {
            "title": shown(entry.title, entry.get("title_detail")),
            "link": entry.get("link"),
            "authors": [a.get("name") for a in entry.get("authors", [])],
            "published": utc(entry.get("published_parsed")),
            # RSS items carry theirs as dcterms:modified, only when it
            # differs from pubDate (read without feedparser's fallback to
            # the published time).
            "updated": utc(dict.get(entry, "updated_parsed")),
            "tags": [t.term for t in entry.get("tags", [])],
            "summary": summary,
            "content": content,
        }
    return shown(parsed.feed.get("title"), parsed.feed.get("title_detail")), items


def compare(path, reference_path, reference, got):
    problems = []
    ref_title, ref_items = reference
    title, items = got
    if title != ref_title:
        problems.append(f"{path}: feed title {title!r} != {ref_title!r} in {reference_path}")
    if list(items) != list(ref_items):
        problems.append(f"{path}: item ids/order differ from {reference_path}")
    for item_id, ref in ref_items.items():
        item = items.get(item_id)
        if item is None:
            continue
        for field, expected in ref.items():
            if field == "updated" and item[field] is None:
                continue
            if field == "content" and same_html(item[field], expected):
                continue
            if field == "summary" and expected is None:
                if path.suffix == ".rss":
                    # RSS needs a description; wirefeed uses the title.
                    expected = ref["title"]
                elif same_html(item[field], item["content"]):
                    # feedparser fills a missing Atom summary with the content.
                    continue
            if item[field] != expected:
                problems.append(
                    f"{path}: item {item_id}: {field} is {item[field]!r}, "
                    f"{reference_path.name} says {expected!r}"
                )
    return problems


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "feeds")
    problems = []
    checked = 0
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".rss", ".atom") or path.name.startswith("."):
            continue
        json_path = path.with_suffix(".json")
        atom_path = path.with_suffix(".atom")
        if json_path.exists():
            reference_path, reference = json_path, from_json(json_path)
        elif path.suffix == ".rss" and atom_path.exists():
            reference_path, reference = atom_path, from_feedparser(atom_path)
        else:
            reference_path, reference = None, None
        got = from_feedparser(path)
        if reference is not None:
            problems += compare(path, reference_path, reference, got)
        checked += 1
    for p in problems:
        print(p)
    print(f"feedparser {feedparser.__version__}: {checked} feeds read, {len(problems)} differences")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
