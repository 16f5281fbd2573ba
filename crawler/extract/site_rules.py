"""Per-site extraction rules applied to the page tree before trafilatura.

Pure: lxml (and cssselect, for CSS selectors) only. A rules mapping looks like::

    {"example.com": {"prune": [".promo-box", "//aside"], "body": "div.article-body"}}

``prune`` selectors remove elements; ``body`` keeps only the elements it
matches (in document order) as the page body, when it matches something with
text. A selector starting with ``/`` or ``(`` is XPath, anything else CSS.
Hosts match exactly or as a parent domain ("example.com" covers
"www.example.com" and "news.example.com"); the longest match wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

Rules = Mapping[str, Mapping[str, Any]]


def _host(url_or_host: str | None) -> str:
    if not url_or_host:
        return ""
    value = url_or_host.strip()
    host = urlsplit(value).hostname if "//" in value else value.split("/")[0].split(":")[0]
    host = (host or "").lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def rules_for(url: str | None, rules: Rules | None) -> Mapping[str, Any] | None:
    """The rule set for ``url``'s host (or a parent domain), if any."""
    host = _host(url)
    if not host or not rules:
        return None
    best: tuple[int, Mapping[str, Any]] | None = None
    for key, rule in rules.items():
        k = _host(key)
        if k and (host == k or host.endswith("." + k)) and (best is None or len(k) > best[0]):
            best = (len(k), rule)
    return best[1] if best else None


def select(tree: Any, selector: str) -> list[Any]:
    """Elements matched by a CSS or XPath selector (bad selectors match nothing)."""
    selector = selector.strip()
    if not selector:
        return []
    try:
        if selector.startswith(("/", "(")):
            found = tree.xpath(selector)
        else:
            from lxml.cssselect import CSSSelector

            found = CSSSelector(selector)(tree)
    except (etree.XPathError, ValueError, SyntaxError, ImportError):
        return []
    except Exception:  # noqa: BLE001 - cssselect raises its own SelectorError types
        return []
    return [el for el in found if isinstance(el, etree._Element) and isinstance(el.tag, str)]


def apply_site_rules(tree: Any, url: str | None, rules: Rules | None) -> dict[str, int]:
    """Apply the rules for ``url`` to ``tree`` in place; returns what was done."""
    done = {"pruned": 0, "body": 0}
    rule = rules_for(url, rules)
    if tree is None or not rule:
        return done
    for selector in rule.get("prune", ()) or ():
        for el in select(tree, selector):
            if el.getparent() is not None and el.tag not in ("html", "body"):
                el.drop_tree()
                done["pruned"] += 1
    body_sel = rule.get("body")
    if body_sel:
        keep = [
            el
            for el in select(tree, body_sel)
            if "".join(el.itertext()).strip() and el.tag not in ("html", "body")
        ]
        # Outermost matches only, in document order.
        keep = [el for el in keep if not any(a in keep for a in el.iterancestors())]
        body = tree.find("body")
        if keep and body is not None:
            for el in keep:
                el.tail = None
                el.getparent().remove(el)
            for child in list(body):
                body.remove(child)
            body.text = None
            for el in keep:
                body.append(el)
            done["body"] = len(keep)
    return done


class RulesError(ValueError):
    """A rules file is wrong; ``str(exc)`` says where."""


def load_rules(path: str) -> dict[str, dict[str, Any]]:
    """Per-host rules from a TOML file (the ``CLEAN_SITE_RULES`` setting)::

    ["example.com"]
    prune = [".promo-box", "//aside[@class='related']"]
    body = "div.article-body"
    """
    import tomllib

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise RulesError(f"cannot read CLEAN_SITE_RULES file {path!r}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"CLEAN_SITE_RULES file {path!r} is not valid TOML: {exc}") from None
    rules: dict[str, dict[str, Any]] = {}
    for host, rule in data.items():
        if not isinstance(rule, dict) or set(rule) - {"prune", "body"}:
            raise RulesError(
                f"{path}: [{host!r}] takes only 'prune' (a list) and 'body' (a string)"
            )
        prune = rule.get("prune", [])
        if isinstance(prune, str):
            prune = [prune]
        if not isinstance(prune, list) or not all(isinstance(p, str) for p in prune):
            raise RulesError(f"{path}: [{host!r}] prune must be a list of selectors")
        body = rule.get("body")
        if body is not None and not isinstance(body, str):
            raise RulesError(f"{path}: [{host!r}] body must be a selector string")
        rules[host] = {"prune": prune, **({"body": body} if body else {})}
    return rules
