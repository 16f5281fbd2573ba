"""Remove the page chrome an extractor leaves behind, line by line.

Pure: no Scrapy. Works on plain text with one paragraph per line, whether it
came from trafilatura or from a ``.txt`` file.

The method is general rather than a list of phrases: each line gets features
(is it prose? does it end like a sentence? does it speak to the reader in the
imperative? is it a label, a credit, a list of platforms? is it repeated in
the document or across pages of the same site?) and a line is chrome when
those features say so. Where a line sits matters: the end and the start of an
article are where promo blocks, share bars and calls to action cluster, so a
run of non-prose lines there is removed, while in the middle of the body only
lines with strong chrome signals go (a short sub-heading stays).

Some chrome is recognised by the shape of the whole line in several languages
(en, de, es, fr, it, pt, nl): cross-reference labels ("Read also:", "Lesen Sie
auch:", "Te puede interesar"), editorial disclaimers ("The views expressed are
the author's own"), syndication and production notes ("This article originally
appeared on ...", "Reporting by X; Editing by Y"), calls to follow the outlet
on a named social platform, and lines that only address the reader ("Do you
have an opinion? Email us ..."). Each fires only on a short line of that shape,
so prose that merely uses the same words stays.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

# --- normalisation ---------------------------------------------------------

# Zero-width characters and soft hyphens (a regex: str.translate with a table
# costs far more on a long text).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_text(text: str) -> str:
    """NFC, one paragraph per line, single spaces, no empty lines."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    # _SPACES never matches a newline: one pass over the whole text is the same
    # as one per line.
    lines = (line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    return "\n".join(line for line in lines if line)


# --- line features -----------------------------------------------------------

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
# A sentence ends in . ! ? or an ellipsis, possibly inside closing quotes/brackets
# (with a space before them, as French typography sets « ceci. »).
_SENTENCE_END = re.compile(r"[.!?…](?:\s?[\"'”’»)\]])*$|[\"”’»][.!?…]$")
_LABEL = re.compile(r"^[^\W\d_][\w'’ &/-]{0,30}:$", re.UNICODE)
_DURATION = re.compile(
    r"\(\s*\d{1,3}\s*(?:\\?['’′]|min(?:s|utes)?|:\d{2})\s*\)|(?:^|\s)\d{1,2}:\d{2}(?::\d{2})?(?:\s|$)"
)
_URLISH = re.compile(r"https?://|www\.|\S+@\S+\.\w+|\.(?:com|org|net)\b")

# Verbs with which chrome addresses the reader ("Share your story", "Follow us").
_CTA_VERBS = frozenset(
    """share send subscribe sign follow join download watch listen read click tap
    like comment get tell email contact support donate register log login see view
    continue load discover explore visit check install enable allow accept manage
    become upgrade try start submit upload report leave post tweet pin print save
    bookmark shop buy order claim unlock sponsor advertise""".split()
)
# Addressee words that make an imperative line a call to action.
_CTA_OBJECTS = frozenset(
    "us our your you yours we newsletter app updates story stories tips tip".split()
)
_PLATFORMS = frozenset(
    """facebook twitter x whatsapp telegram instagram linkedin email e-mail mail
    pinterest reddit youtube tiktok messenger viber threads bluesky mastodon flipboard
    copy link print sms rss share tweet""".split()
)
# Vocabulary that is nearly always chrome when a short line is built from it.
_BOILERPLATE = re.compile(
    r"\b(?:cookies?|newsletters?|subscri(?:be|ption|bers?)|sign(?:ed)? ?up|log ?in|"
    r"advert(?:isement|ising)?|sponsored|promoted|"
    r"terms of (?:use|service)|privacy (?:policy|settings)|read more|click here|"
    r"related (?:articles?|stories|content|news)|most (?:read|popular|viewed)|"
    r"recommended (?:for you|stories)|trending|notifications|our app|"
    r"free trial|paywall|comments? (?:are|section)|leave a (?:reply|comment)|"
    r"download (?:the|our)|follow us|(?:share|send|tell) (?:us|your)|"
    r"(?:requires?|enable|turn on) javascript|javascript (?:is )?(?:required|disabled))\b",
    re.IGNORECASE,
)
_STRONG = re.compile(
    r"^(?:advertisement|advertising|sponsored(?: content)?|ad|anzeige|publicidad|"
    r"publicité|werbung|story continues below(?: advertisement)?|"
    r"scroll (?:down )?to continue(?: reading)?|continue reading(?: below)?|"
    r"skip (?:to|advert)\b.*|loading(?:\.\.\.|…)?)$",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"^(?:\(?(?:photo|image|picture|pictured|video|graphic|illustration|source|credit|"
    r"foto|bild|fotografía|imagen)s?\s*(?:credit)?\s*[:|/©-]|©|\(c\)\s)",
    re.IGNORECASE,
)
# "Related: <headline>", "Read more: <headline>": a cross-reference label and
# the linked headline (three words or more; "See it: Shop" is a product link).
_XREF = re.compile(
    r"^(?:related|read|see|also|more|watch|listen|tags?|topics?|filed|follow|share|"
    r"recommended|trending|popular|latest|further|next|previous|more on)\b[\w ]{0,20}:"
    r"\s*\S+\s+\S+\s+\S",
    re.IGNORECASE,
)
# Markup that was never rendered: [shortcode attr="x"]...[/shortcode], {{ var }}.
_MARKUP_LEAK = re.compile(r"\[/?[a-z_]+(?:\s+[a-z_-]+\s*=\s*[\"'”“][^\]]*)?\]|\{\{.*\}\}", re.I)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright\s+(?:©\s*)?\d{4}|all rights reserved)", re.I)
_COOKIE = re.compile(
    r"\bcookies?\b.*\b(?:use|accept|consent|agree|preferences|settings|policy|experience)\b|"
    r"\b(?:use|accept|consent|agree)\b.*\bcookies?\b",
    re.IGNORECASE,
)


# --- line categories that need the shape of the whole line ---------------------
#
# Each is a *shape*, not a site string: a label or a sentence pattern that editors
# in many outlets and languages write the same way. They only fire when the whole
# line is short and has that shape, so prose that merely uses the words stays.

# Cross-reference labels ("Read also:", "Lesen Sie auch:", "Te puede interesar:")
# in the main European news languages. A line is a cross-reference when it is
# such a label alone, or the label, a separator and a linked headline.
_XREF_PHRASES = (
    # en
    r"(?:read|see|watch)\s+(?:also|more|next)|also\s+(?:read|see|watch)|"
    r"more\s+on\s+this(?:\s+(?:story|topic|subject))?|more\s+from\s+\w+(?:\s+\w+)?|"
    r"related(?:\s+(?:articles?|stories|story|content|news|coverage|reading|links?|topics?))?|"
    r"you\s+(?:may|might|could)\s+(?:also\s+)?"
    r"(?:like|enjoy|be\s+interested(?:\s+in)?|have\s+missed)|"
    r"further\s+reading|don['’]t\s+miss|must[\s-]reads?|recommended(?:\s+(?:reading|for\s+you))?|"
    r"what\s+to\s+read\s+next|in\s+case\s+you\s+missed\s+it|"
    # de
    r"lesen\s+sie\s+(?:auch|mehr|hier|dazu)|lies\s+auch|auch\s+interessant|"
    r"mehr\s+(?:zum\s+thema|dazu|zu\s+diesem\s+thema)|zum\s+thema|siehe\s+auch|weiterlesen|"
    r"(?:das\s+)?könnte\s+sie\s+(?:auch\s+)?interessieren|passend\s+zum\s+thema|"
    # es
    r"lee\s+(?:también|además|más)|lea\s+(?:también|además|más)|leer\s+más|"
    r"(?:también\s+)?(?:te|le|les)\s+puede\s+interesar|puede\s+interesarte|"
    r"más\s+información|ver\s+(?:también|más)|noticias\s+relacionadas|"
    r"relacionad[oa]s?|sigue\s+leyendo|"
    # fr
    r"(?:à\s+|a\s+)?lire\s+(?:aussi|également|egalement|la\s+suite|plus)|"
    r"(?:à\s+|a\s+)?voir\s+(?:aussi|également)|sur\s+le\s+même\s+sujet|en\s+savoir\s+plus|"
    # it
    r"leggi\s+(?:anche|pure|di\s+più|altro)|vedi\s+anche|(?:ti\s+)?potrebbe\s+(?:interessarti|"
    r"interessare|piacere)|per\s+saperne\s+di\s+più|approfondisci|"
    # pt
    r"leia\s+(?:também|mais)|veja\s+(?:também|mais)|saiba\s+mais|"
    r"você\s+pode\s+(?:gostar|se\s+interessar)|"
    # nl
    r"lees\s+(?:ook|meer|verder)|bekijk\s+ook|zie\s+ook|ook\s+interessant|"
    r"meer\s+over\s+dit\s+(?:onderwerp|thema)"
)
_XREF_LABEL = re.compile(
    r"^[^\w¿¡]*(?:" + _XREF_PHRASES + r")"
    r"\s*(?P<sep>[:：|»›>→–—-]+|…|\.\.\.)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)


def _is_xref(text: str, n: int) -> bool:
    """A cross-reference label alone, or label + separator + linked headline."""
    if n > 25:
        return False
    m = _XREF_LABEL.match(text)
    if not m:
        return False
    rest = m.group("rest").strip(" *_.…")
    if not rest:
        return True
    # A headline after the label, not a paragraph that starts like one.
    return bool(m.group("sep")) and not _INNER_STOP.search(rest)


# Editorial disclaimers of opinion pieces: "The views expressed are the author's
# own", "Opinions expressed here do not necessarily reflect ...", in several
# languages. Shape: an opinions/views subject with "expressed"/"in this
# article", then the attribution (the author's, own, not necessarily ...).
_DISCLAIMER = re.compile(
    # en: "The views expressed ... are (solely) those of the author / the writer's own"
    r"^\W*(?:(?:the|all|any|these)\s+)?(?:views?|opinions?|comments?|content)"
    r"(?:\s+(?:and|or|&)\s+(?:views?|opinions?))?\s+"
    r"(?:(?:expressed|stated|contained|presented|given|set\s+out)|in\s+this\s+\w+|here(?:in)?)\b"
    r".*\b(?:(?:are|is|remain)\s+(?:solely\s+|entirely\s+|strictly\s+|exclusively\s+)?"
    r"(?:(?:those|that)\s+of\s+)?(?:the|his|her|their|its)\s+"
    r"(?:authors?|writers?|columnists?|contributors?|own|guest)|"
    r"(?:author|writer|columnist|contributor)s?['’]?s?\s+own|(?:their|his|her|my)\s+own|"
    r"(?:do|does|may|might)\s+not\s+(?:necessarily\s+)?(?:reflect|represent)|"
    r"not\s+necessarily|personal)\b"
    # en: "The author's views are their own", "The writer's opinions do not ..."
    r"|^\W*(?:the\s+)?(?:authors?|writers?|columnists?|contributors?)['’]s?\s+"
    r"(?:own\s+)?(?:views?|opinions?)\s+(?:are|do|does|may)\b"
    r"|^\W*(?:views|opinions)\s+(?:are\s+)?"
    r"(?:my|the\s+author['’]s|the\s+writer['’]s|their)\s+own\b"
    r"|^\W*(?:views|opinions)\s+(?:expressed\s+)?are\s+personal\b"
    # es / it / pt / fr: "Las opiniones expresadas ... son responsabilidad exclusiva
    # de su autor", "Le opinioni espresse ... sono dell'autore", "n'engagent que ..."
    r"|^\W*(?:(?:las|los|le|les|as|os|gli|i)\s+)?(?:opiniones|opinioni|opiniões|opinions|"
    r"puntos\s+de\s+vista|points\s+de\s+vue|propos|punti\s+di\s+vista|pontos\s+de\s+vista)\s+"
    r"(?:expresad[oa]s|vertid[oa]s|manifestad[oa]s|espress[ei]|expressos|expressas|emitid[oa]s|"
    r"exprimé(?:e)?s|contenu(?:e)?s|contenid[oa]s|contidas|contid[oa]s)\b.*"
    r"(?:\b(?:necesariamente|necessariamente|nécessairement|responsabilidad|responsabilità|"
    r"responsabilidade|exclusiva|esclusiva|exclusivement|exclusivamente)\b|\bn['’]engagent\b|"
    r"\b(?:son|sont|sono|são|é|es|est)\s+(?:[\w]+['’]?\s*){0,3}?(?:autor(?:es|a|as)?|auteurs?|"
    r"autore|autori|autrice|autrices)\b)"
    # de: "Die Meinung des Autors muss nicht mit der Meinung der Redaktion übereinstimmen",
    # "Der Gastbeitrag gibt die Meinung der Verfasserin wieder"
    r"|^(?=.*\b(?:meinung(?:en)?|ansicht(?:en)?|standpunkte?)\b)"
    r"(?=.*\b(?:des|der)\s+(?:gast)?(?:autors?|autorin|verfassers?|verfasserin)\b)"
    r"(?=.*\b(?:redaktion|wieder|übereinstimm\w*|"
    r"nicht\s+(?:unbedingt|zwingend|notwendigerweise))\b)"
    # nl: "De standpunten in dit artikel zijn die van de auteur"
    r"|^\W*(?:de\s+)?(?:mening(?:en)?|standpunten|opvattingen)\s+(?:van\s+de\s+|in\s+dit\s+\w+\s+)"
    r".*\b(?:auteur|schrijver|noodzakelijk(?:erwijs)?)\b",
    re.IGNORECASE,
)

# Syndication and production notes: "This article originally appeared on ...",
# "First published by ...", "Republished with permission", "This story was
# produced by ...", "Reporting by X; Editing by Y", in several languages. The
# subject is the piece itself ("this article"), never "the report" a story is
# about, and the verb is one of publishing, so prose about an archive photo or
# a law's article stays.
_PIECE = r"(?:article|story|piece|post|column|essay|feature|op-ed|commentary)"
_SYNDICATION = re.compile(
    # en: "This article originally appeared on", "A version of this story first ran in"
    r"^\W*(?:(?:an?\s+)?(?:earlier\s+|shorter\s+|longer\s+|different\s+|print\s+)?"
    r"version\s+of\s+)?this\s+" + _PIECE + r"\s+(?:(?:was|has\s+been|is|had\s+been)\s+)?"
    r"(?:(?:originally|first|initially|previously|also)\s+)"
    r"(?:appeared|appears|published|posted|ran|aired|printed)\b"
    r"|^\W*(?:an?\s+)?(?:earlier\s+|shorter\s+|longer\s+|print\s+)?version\s+of\s+this\s+"
    + _PIECE
    + r"\s+(?:(?:was|has\s+been|is)\s+)?(?:appeared|appears|published|posted|ran)\b"
    # en: "Originally published on ...", "First appeared in ..."
    r"|^\W*(?:originally|first|initially|previously)\s+(?:appeared|published|posted|ran)\s+"
    r"(?:on|in|at|by|with|as|online)\b"
    # en: "Republished with permission", "Reproduced under licence"
    r"|^\W*(?:this\s+" + _PIECE + r"\s+(?:is|was|has\s+been)\s+)?"
    r"(?:re-?published|reprinted|reproduced|syndicated|shared|used)\s+"
    r"(?:here\s+)?(?:with|by|under)\s+(?:the\s+)?(?:kind\s+|express\s+)?"
    r"(?:permission|arrangement|agreement|licen[cs]e|courtesy)\b"
    # en: "This story was produced by / in partnership with ..."
    r"|^\W*this\s+(?:article|story|piece|post|content|coverage|project|series)\s+"
    r"(?:was|is|has\s+been)\s+(?:produced|co-?produced|co-?published|reported|written|created|"
    r"funded|supported|made\s+possible|distributed|provided|published)\s+"
    r"(?:by|in\s+partnership|in\s+collaboration|in\s+association|with|through|thanks\s+to|"
    r"as\s+part\s+of|under)\b"
    r"|^\W*(?:this\s+)?" + _PIECE + r"\s+(?:is\s+)?(?:courtesy\s+of|provided\s+by|"
    r"distributed\s+by|syndicated\s+by)\b"
    # de: "Dieser Artikel erschien zuerst in ...", "Zuerst erschienen bei ..."
    r"|^\W*(?:(?:dieser|dieses)\s+(?:artikel|beitrag|text|interview)|der\s+beitrag)\s+"
    r"(?:erschien|ist|wurde)\s+(?:\w+\s+){0,3}?(?:zuerst|ursprünglich|erstmals|zuvor)\s+"
    r"(?:\w+\s+){0,3}?(?:in|bei|auf|im|am|erschienen|veröffentlicht)\b"
    r"|^\W*(?:zuerst|ursprünglich|erstmals)\s+(?:erschienen|veröffentlicht)\s+(?:in|bei|auf|im)\b"
    r"|^\W*mit\s+freundlicher\s+genehmigung\s+(?:von|des|der)\b"
    # es / pt: "Este artículo fue publicado originalmente en ...", "Publicado originalmente em"
    r"|^\W*(?:este|esta)\s+(?:artículo|artigo|noticia|notícia|información|reportaje|"
    r"reportagem|entrevista|matéria)\s+(?:(?:fue|ha\s+sido|foi|se)\s+)?"
    r"(?:(?:originalmente|originariamente|inicialmente)\s+)?"
    r"(?:publicad[oa]|publicó|apareció|apareceu|divulgad[oa])\s+"
    r"(?:originalmente|originariamente|inicialmente|primero|previamente|por\s+primera\s+vez|"
    r"pela\s+primeira\s+vez|en|em|no|na|por|pelo|pela)\b"
    r"|^\W*(?:publicad[oa]|aparecid[oa]|divulgad[oa])\s+(?:originalmente|originariamente|"
    r"inicialmente)\s+(?:en|em|no|na|por|pelo|pela)\b"
    r"|^\W*(?:reproducid[oa]|reproduzid[oa]|republicad[oa])\s+(?:con|com)\s+(?:el\s+|a\s+)?"
    r"(?:autorización|permiso|permissão|autorização)\b"
    # fr: "Cet article a d'abord été publié dans ...", "Initialement publié sur ..."
    r"|^\W*(?:cet|cette|ce)\s+(?:article|texte|entretien|reportage|tribune|chronique)\s+"
    r"(?:a\s+)?(?:(?:d['’]abord|initialement|originellement|précédemment)\s+)?(?:été\s+)?"
    r"(?:(?:d['’]abord|initialement|originellement)\s+)?(?:publié|paru)e?\s+"
    r"(?:(?:d['’]abord|initialement|originellement|précédemment)\s+)?(?:dans|sur|par|en)\b"
    r"|^\W*(?:initialement|originellement|d['’]abord)\s+(?:publié|paru)e?\s+"
    r"(?:dans|sur|par|en)\b"
    r"|^\W*(?:reproduit|republié|publié)e?\s+avec\s+"
    r"(?:l['’]aimable\s+)?(?:l['’])?autorisation\b"
    # it: "Questo articolo è stato pubblicato originariamente su ..."
    r"|^\W*(?:questo\s+|quest['’]\s*)(?:articolo|testo|pezzo|contenuto|intervista)\s+"
    r"(?:è\s+stat[oa]\s+|e['’]\s+stat[oa]\s+)?"
    r"(?:(?:originariamente|inizialmente|originalmente)\s+)?"
    r"(?:pubblicat[oa]|apparso|apparsa|uscit[oa])\s+(?:(?:originariamente|inizialmente|"
    r"originalmente|per\s+la\s+prima\s+volta)\s+)?(?:su|in|da|sul|sulla|nel|nella|per)\b"
    r"|^\W*(?:pubblicat[oa]|apparso|apparsa)\s+(?:originariamente|originalmente|inizialmente)\s+"
    r"(?:su|in|da|sul|sulla|nel|nella)\b"
    r"|^\W*riprodott[oa]\s+(?:su|con)\s+(?:gentile\s+)?(?:autorizzazione|permesso|concessione)\b"
    # nl: "Dit artikel verscheen eerder in ..."
    r"|^\W*dit\s+(?:artikel|stuk|interview|verhaal)\s+(?:verscheen\s+(?:\w+\s+){0,2}?"
    r"(?:eerder|oorspronkelijk|eerst)|(?:is|werd)\s+(?:\w+\s+){0,2}?(?:eerder|oorspronkelijk|"
    r"eerst)\s+(?:\w+\s+){0,2}?gepubliceerd)\b",
    re.IGNORECASE,
)
# Agency production trailer: "Reporting by A in B; Editing by C" (with a second
# credit after a semicolon, or a short unpunctuated credit line).
_CREDIT_PART = (
    r"(?:additional\s+)?(?:reporting|writing|written|editing|edited|compiled|"
    r"research|graphics|production|produced|fact-checking|translation|translated)"
    r"(?:\s+(?:and|&)\s+(?:reporting|writing|editing|research))?\s+by\s+[^;]+"
)
_PRODUCTION = re.compile(
    r"^[\s(\[]*" + _CREDIT_PART + r"(?:;\s*" + _CREDIT_PART + r")+[)\].\s]*$", re.IGNORECASE
)
_PRODUCTION_SHORT = re.compile(r"^[\s(\[]*" + _CREDIT_PART + r"[)\]\s]*$", re.IGNORECASE)

# A call to follow the outlet on a named social platform: a follow verb, a
# short object with no clause break, then "on/auf/en/sur/su/no/op <platform>".
# The object must name the outlet or the reader's relation to it (a pronoun,
# a capitalised name, "the latest news"), so an imperative in prose that
# merely ends on a platform ("Find a way to keep teenagers safe on TikTok")
# does not qualify.
_SOCIAL_NAMES = (
    r"(?:facebook|twitter|instagram|linkedin|youtube|tiktok|telegram|whatsapp|"
    r"threads|bluesky|mastodon|pinterest|snapchat|flipboard|google\s+news|"
    r"apple\s+news)"
)
_SOCIAL_CTA = re.compile(
    r"^\W*(?P<verb>follow|like|join|find|connect(?:\s+with)?|subscribe(?:\s+to)?|catch|"
    r"stay\s+(?:connected|in\s+touch|up\s+to\s+date)(?:\s+with)?|keep\s+up(?:\s+with)?|get|"
    r"watch|folgen|folge|finden|besuchen|abonnieren|"
    r"síguenos|síganos|sigue|siga|sígueme|únete|"
    r"suivez(?:-nous)?|retrouvez(?:-nous)?|rejoignez(?:-nous)?|abonnez-vous|"
    r"seguici|seguiteci|segui|seguite|iscriviti|"
    r"siga-nos|sigam-nos|segue|acompanhe|curta|"
    r"volg|vind)"
    r"(?P<object>(?:\s+[\w'’.&-]+){0,7}?)\s+(?:on|at|via|auf|bei|in|en|sur|su|no|na|nos|op)\s+"
    + _SOCIAL_NAMES
    + r"\b",
    re.IGNORECASE,
)
_SOCIAL_OBJECT_WORDS = frozenset(
    """us our me my ons onze uns unser unsere unseren nous nos ci noi nosso nossa
    latest news updates alerts breaking coverage stories""".split()
)


def _is_social_cta(text: str) -> bool:
    m = _SOCIAL_CTA.search(text)
    if not m:
        return False
    verb, obj = m.group("verb"), m.group("object").split()
    if not obj:
        # "Síguenos en X", "Suivez-nous sur X": the pronoun is in the verb;
        # a bare "Follow on X" is as clear.
        return True
    return any(w.lower() in _SOCIAL_OBJECT_WORDS or w[:1].isupper() for w in obj) or (
        verb.lower().endswith(("nous", "nos", "ci", "with"))
    )


# A line that speaks to the reader: imperatives with "us/our/your" right after
# the verb ("Email us a letter", "Write to us", "Send us your ...") and short
# questions to the reader ("Do you have an opinion on this?", "Got a tip?").
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+")
_QUESTION_END = re.compile(r"\?[\"'”’»)\]]*$")


_READER_OPENERS = _CTA_VERBS | {"write", "have", "get"}


def _reader_address(text: str, n: int) -> bool:
    """A short line made only of reader calls to action and reader questions."""
    if n > 45 or not text:
        return False
    first = _WORD.match(text.lstrip("\"'“‘(["))
    if "?" not in text and not (first and first.group().lower() in _READER_OPENERS):
        return False  # the first sentence is neither a question nor an imperative
    has_cta = False
    for sentence in _SENTENCE_SPLIT.split(text):
        words = [w.lower() for w in _WORD.findall(sentence)]
        if not words:
            continue
        if words[0] in _CTA_VERBS and any(w in _CTA_OBJECTS for w in words[1:4]):
            has_cta = True
        elif words[:2] in (["write", "to"], ["get", "in"], ["have", "your"]):
            has_cta = True
        elif not (
            _QUESTION_END.search(sentence)
            and (len(words) <= 8 or "you" in words or "your" in words)
        ):
            return False
    return has_cta


# A list item as extractors write it: "- item", "• item", "3) item", "3. item".
_LIST_ITEM = re.compile(r"^(?:[-–—•*·▪►]\s|\(?\d{1,3}[.)]\s)")
# A sentence boundary inside a line: several sentences make a line prose.
_INNER_STOP = re.compile(r"[.!?…][\"'”’»)\]]*\s+[\"“‘'(]?[^\W\d_]", re.UNICODE)


@dataclass
class Line:
    text: str
    words: list[str]
    prose: bool
    cta: bool
    label: bool
    share_bar: bool
    strong: bool
    boilerplate: bool
    media: bool
    list_item: bool = False
    urlish: bool = False
    #: a cross-reference ("Read also: <headline>", "Lesen Sie auch:", "Te puede interesar")
    xref: bool = False
    #: an editorial disclaimer ("The views expressed are the author's own.")
    disclaimer: bool = False
    #: a syndication or production note ("This article originally appeared on ...")
    syndication: bool = False
    #: a call to follow the outlet on a named social platform
    social_cta: bool = False
    #: only reader calls to action and questions to "you" ("Do you ...? Email us ...")
    reader_cta: bool = False

    @property
    def n(self) -> int:
        return len(self.words)


def _features(text: str) -> Line:
    # Every test below that only matters for short lines is gated on the word
    # count first, so a long paragraph costs a few regex scans, not all of them.
    words = _WORD.findall(text)
    lower = [w.lower() for w in words]
    n = len(words)
    ends_sentence = bool(_SENTENCE_END.search(text))
    # Prose: a sentence, several sentences, or a long line of running text
    # that lost its stop.
    prose = (ends_sentence and n >= 3) or n >= 25 or (n >= 12 and bool(_INNER_STOP.search(text)))
    list_item = bool(_LIST_ITEM.match(text))
    first = lower[0] if lower else ""
    cta = (
        first in _CTA_VERBS
        and n <= 20
        and (any(w in _CTA_OBJECTS for w in lower[1:]) or not ends_sentence)
    )
    urlish = n <= 12 and not ends_sentence and bool(_URLISH.search(text))
    label = n <= 4 and bool(_LABEL.match(text))
    share_bar = n > 0 and n <= 12 and sum(w in _PLATFORMS for w in lower) >= max(2, n - 1)
    # A copyright notice written as a sentence closes many agency stories and
    # belongs to them; a bare "© 2024 Site" is footer chrome.
    copyright_line = n <= 25 and not prose and bool(_COPYRIGHT.search(text))
    strong = (
        bool(_STRONG.match(text.strip(" -–—|•·*")))
        or copyright_line
        or (n <= 25 and bool(_CREDIT.match(text)))
        or (n <= 60 and bool(_COOKIE.search(text)))
        or (n <= 30 and ("=" in text or "[/" in text) and bool(_MARKUP_LEAK.search(text)))
    )
    boilerplate = n <= 15 and bool(_BOILERPLATE.search(text))
    if n <= 20 and not ends_sentence and _XREF.match(text):
        cta = True
    media = n <= 15 and not list_item and bool(_DURATION.search(text))
    xref = _is_xref(text, n)
    disclaimer = syndication = social_cta = False
    if n <= 60:
        # Whole-line shapes; "few sentences" keeps a paragraph that merely opens
        # with such words (a disclaimer or credit note is one or two sentences).
        sentences = len(_INNER_STOP.findall(text)) + 1 if n <= 40 else 3
        disclaimer = n <= 40 and sentences <= 2 and bool(_DISCLAIMER.search(text))
        syndication = (
            n <= 35
            and sentences <= 2
            and bool(_SYNDICATION.search(text))
            or (bool(_PRODUCTION.match(text)))
            or (n <= 12 and not ends_sentence and bool(_PRODUCTION_SHORT.match(text)))
        )
        social_cta = n <= 30 and sentences <= 2 and _is_social_cta(text)
    reader_cta = not list_item and _reader_address(text, n)
    return Line(
        text,
        words,
        prose,
        cta,
        label,
        share_bar,
        strong,
        boilerplate,
        media,
        list_item,
        urlish,
        xref,
        disclaimer,
        syndication,
        social_cta,
        reader_cta,
    )


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _line_key(line: Line) -> str:
    """:func:`_key` of a line, from the words :func:`_features` found: for ASCII
    text case-folding is lowercasing and cannot move a word boundary."""
    if line.text.isascii():
        return " ".join(line.words).lower()
    return _key(line.text)


def line_key(text: str) -> str:
    """How lines are compared across pages: case-folded words, no punctuation."""
    return _key(text)


# --- the cleaner -------------------------------------------------------------


@dataclass
class Cleaned:
    text: str
    #: removed lines with the reason, for debugging and the reclean report.
    removed: list[tuple[str, str]] = field(default_factory=list)


def _strong_reason(line: Line, repeated: bool, in_list: bool = False) -> str | None:
    """Chrome wherever the line stands (the middle of an article included).

    Items of a list ("- Sign in with the same e-mail") are content written in
    the imperative often enough that only the unambiguous signals apply
    (an imperative that also uses newsletter/subscribe/cookie wording goes).
    """
    if line.share_bar:
        return "share bar"
    if line.strong:
        return "ad, credit, cookie or copyright line"
    if line.xref:
        return "cross-reference"
    if line.disclaimer:
        return "editorial disclaimer"
    if line.syndication:
        return "syndication or production note"
    if line.social_cta:
        return "call to follow on social media"
    if line.cta and line.boilerplate:
        return "call to action"
    if in_list or line.list_item:
        return None
    if line.cta and not line.prose:
        return "call to action"
    if line.media and not line.prose:
        return "media promo"
    return None


def _edge_reason(line: Line, repeated: bool, in_list: bool) -> str | None:
    """Why a line at the start or end of the article is chrome, if it has a signal."""
    reason = _strong_reason(line, repeated, in_list)
    if reason:
        return reason
    if line.label:
        return "label with nothing after it"
    if line.boilerplate and (not line.prose or line.n <= 12):
        return "boilerplate wording"
    if line.cta:
        return "call to action"
    if line.reader_cta:
        return "call to action addressed to the reader"
    if repeated and not line.prose and not in_list:
        return "repeated non-prose line"
    return None


#: A run of this many plain non-prose lines at an edge is a list (tour dates,
#: a table, ingredients), not chrome: only shorter runs are trimmed.
_MAX_EDGE_RUN = 2
#: Trim short runs of plain non-prose lines at the start too (datelines and
#: kickers sometimes go with them; measured within noise either way).
WEAK_START = True


def clean_text(
    text: str,
    *,
    title: str | None = None,
    site_lines: Iterable[str] = (),
) -> Cleaned:
    """Remove chrome lines from ``text`` (one paragraph per line).

    ``title`` lets a repeated headline be removed; ``site_lines`` are line
    keys known to repeat across pages of the same site (site profile).
    """
    lines = [_features(t) for t in normalize_text(text).split("\n") if t]
    keys = [_line_key(line) for line in lines]
    counts = Counter(k for k in keys if k)
    title_key = _key(title) if title else ""
    site = set(site_lines)
    removed: list[tuple[str, str]] = []
    keep = [True] * len(lines)
    # A list item with a list item beside it is part of a list.
    in_list = [
        line.list_item
        and ((i > 0 and lines[i - 1].list_item) or (i + 1 < len(lines) and lines[i + 1].list_item))
        for i, line in enumerate(lines)
    ]

    def drop(i: int, why: str) -> None:
        keep[i] = False
        removed.append((lines[i].text, why))

    for i, (line, key) in enumerate(zip(lines, keys, strict=True)):
        if not key:
            drop(i, "no words")
            continue
        if key == title_key and (i == 0 or not line.prose):
            drop(i, "repeats the title")
            continue
        if key in site:
            drop(i, "repeats across pages of this site")
            continue
        why = _strong_reason(line, counts[key] > 1, in_list[i])
        if why:
            drop(i, why)

    # Trim chrome at the end, then at the start: lines with a chrome signal,
    # and short runs of plain non-prose lines among them.
    for at_end, order in (
        (True, list(range(len(lines) - 1, -1, -1))),
        (False, list(range(len(lines)))),
    ):
        kept_order = [i for i in order if keep[i]]
        for pos, i in enumerate(kept_order):
            line = lines[i]
            why = _edge_reason(line, counts[keys[i]] > 1, in_list[i])
            if why is None and not line.prose and not in_list[i] and (at_end or WEAK_START):
                run = 0
                for j in kept_order[pos:]:
                    if lines[j].prose or _edge_reason(lines[j], counts[keys[j]] > 1, in_list[j]):
                        break
                    run += 1
                if run <= _MAX_EDGE_RUN:
                    why = "non-prose line at the edge"
            if why is None:
                break
            drop(i, why)

    # Never throw the whole article away on line shape alone: if nothing
    # prose-like survived, fall back to the lines without strong signals.
    if not any(keep) and lines:
        for i, line in enumerate(lines):
            if keys[i] and _strong_reason(line, False) is None:
                keep[i] = True
    kept = [line.text for line, k in zip(lines, keep, strict=True) if k]
    return Cleaned("\n".join(kept), removed)


# --- titles --------------------------------------------------------------------


def looks_like_headline(line: str) -> bool:
    """A short line that does not end like a sentence and is not chrome."""
    f = _features(line)
    if not 2 <= f.n <= 25 or len(line) > 200:
        return False
    if line.rstrip("\"'”’»)").endswith((".", ":", ";", ",")):
        return False
    return _strong_reason(f, False) is None and not f.boilerplate


_CLAUSE = re.compile(r"[,;:–—]\s|\s-\s")


def derive_title(text: str, max_words: int = 14) -> str:
    """A title from the lead: its first sentence, cut at a clause if long."""
    first = normalize_text(text).split("\n", 1)[0] if text.strip() else ""
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z\"“‘'])", first)
    sentence = first[: m.start()] if m else first
    sentence = sentence.rstrip(" .")
    words = sentence.split()
    if len(words) <= max_words:
        return sentence
    for cut in _CLAUSE.finditer(sentence):
        head = sentence[: cut.start()]
        if 6 <= len(head.split()) <= max_words + 4:
            return head.rstrip(" ,;:–—-")
    return " ".join(words[:max_words]).rstrip(",;:") + "…"
