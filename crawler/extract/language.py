"""Guess the language of a clean text when the page does not declare one.

Pure: no Scrapy, no model files. Writing systems that belong to one language
(Hangul, kana, Greek, ...) decide at once; for Latin-script text the
language whose most common function words cover the most tokens wins, and
only when it clearly beats the runner-up. Unsure means ``None``: a wrong
language is worse than none.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_STOPWORDS = {
    "en": "the of and to in a is that for on was with as by it at from he said his be are have has"
    " an were not but this they which will their been who",
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es"
    " an werden aus er hat dass sie nach wird bei einer um",
    "es": "de la que el en y a los del se las por un para con no una su al es lo como más pero sus"
    " le ya o fue este ha sí porque esta entre cuando muy",
    "fr": "de la le et les des en un du une que est pour qui dans a par plus pas au sur ne se ce il"
    " sont été ont cette mais ou comme avec aux",
    "it": "di e il la che in a per un è del non una le si da con sono gli della i al ha più anche"
    " come nel alla ma ci lo dei questo",
    "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao"
    " ele das tem à seu sua ou ser",
    "nl": "de van het een en in is dat op te zijn voor met die niet aan er om ook als dan maar bij"
    " of uit nog worden door naar heeft hij",
    "sv": "och i att det som en på är av för med till den har de inte om ett var jag men från så"
    " kan när efter också sig under",
    "pl": "i w na z do że się nie to jest o jak po co tak za od ale są przez dla jego czy już tylko"
    " przy było może również",
    "tr": "ve bir bu da de için ile olarak en daha çok gibi olan ama o ne kadar sonra var her ise"
    " değil olduğu göre",
}
_WORDS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
# Scripts that name one language.
_SCRIPT_LANG = {
    "HANGUL": "ko",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "GREEK": "el",
    "HEBREW": "he",
    "THAI": "th",
    "GEORGIAN": "ka",
    "ARMENIAN": "hy",
}


_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


def _scripts(text: str) -> Counter[str]:
    """Letters per script in the first 2,000 characters (Latin counted fast)."""
    sample = text[:2000]
    rest = _LATIN.sub("", sample)  # each match is one character
    counts: Counter[str] = Counter({"LATIN": len(sample) - len(rest)})
    for ch in rest:
        if ch.isalpha():
            counts[unicodedata.name(ch, "").split(" ", 1)[0]] += 1
    return counts


SAMPLE_CHARS = 4000


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or ``None`` when unsure.

    Looks at the first :data:`SAMPLE_CHARS` characters: a few hundred words
    decide as well as a whole article, at a fraction of the cost."""
    text = text[:SAMPLE_CHARS]
    scripts = _scripts(text)
    total = sum(scripts.values())
    if total < 20:
        return None
    for script, lang in _SCRIPT_LANG.items():
        if scripts[script] / total > 0.1:
            return lang
    if scripts["CJK"] / total > 0.3:
        return "zh"
    if scripts["ARABIC"] / total > 0.5:
        return None  # Arabic, Persian and Urdu share the script
    if scripts["LATIN"] / total < 0.5:
        return None
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if len(tokens) < 20:
        return None
    counts = Counter(tokens)
    scores = sorted(
        ((sum(counts[w] for w in words) / len(tokens), lang) for lang, words in _WORDS.items()),
        reverse=True,
    )
    (best, lang), (second, _) = scores[0], scores[1]
    if best < 0.12 or best < 1.5 * second:
        return None
    return lang


# --- word counts -------------------------------------------------------------------
#
# Chinese, Japanese, Thai, Lao, Khmer and Burmese put no spaces between words, so
# splitting on whitespace counts a whole sentence (or paragraph) as one "word". A run
# of such characters counts as its length divided by the script's mean word length
# in characters, as a word segmenter would count on average: Chinese words average
# about 1.5 characters, Japanese (kanji and kana together) about 2, and the
# Southeast Asian scripts about 4.5 letters including their combining vowel signs.
_HAN_KANA = (
    "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # hiragana, katakana, half-width katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"  # Han
)
_SOUTHEAST_ASIAN = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Burmese, Khmer
_UNSPACED = re.compile(f"(?P<han>[{_HAN_KANA}]+)|(?P<sea>[{_SOUTHEAST_ASIAN}]+)")
_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_ANY_UNSPACED = re.compile(f"[{_HAN_KANA}{_SOUTHEAST_ASIAN}]")
#: mean characters per word in the scripts written without spaces
CHARS_PER_WORD = {"zh": 1.5, "ja": 2.0, "sea": 4.5}


def unspaced(text: str) -> bool:
    """Whether ``text`` has letters of a script written without spaces."""
    return not text.isascii() and bool(_ANY_UNSPACED.search(text))


def count_words(text: str, language: str | None = None) -> int:
    """Words in ``text``, counted the way its language writes them.

    Whitespace-separated tokens, as ``len(text.split())`` counts them, except that
    runs of Chinese, Japanese, Thai, Lao, Khmer or Burmese characters count as
    their length over the script's mean word length (:data:`CHARS_PER_WORD`).
    Han characters count as Japanese when ``language`` is ``"ja"`` or the text has
    kana, otherwise as Chinese. Text in spaced scripts (Latin, Cyrillic, Arabic,
    Hangul, ...) gets exactly the whitespace count.
    """
    if not unspaced(text):
        return len(text.split())
    japanese = language == "ja" or bool(_KANA.search(text))
    han = CHARS_PER_WORD["ja" if japanese else "zh"]
    total = 0
    for token in text.split():
        if not _ANY_UNSPACED.search(token):
            total += 1
            continue
        words = 0.0
        for m in _UNSPACED.finditer(token):
            run = m.group()
            per_word = CHARS_PER_WORD["sea"] if m.lastgroup == "sea" else han
            words += len(run) / per_word
        rest = _UNSPACED.sub(" ", token)
        total += max(1, round(words)) + (1 if any(ch.isalnum() for ch in rest) else 0)
    return total
