import pytest

from crawler.extract.language import detect_language

SAMPLES = {
    "en": "The council said on Tuesday that it would not renew the contract, and the company has "
    "warned that the ferry service to the island could stop at the end of the year.",
    "de": "Der Stadtrat hat am Dienstag beschlossen, dass die Brücke über den Fluss im nächsten "
    "Jahr für den Verkehr gesperrt wird, weil die Sanierung länger dauert als geplant.",
    "es": "El ayuntamiento anunció el martes que la biblioteca municipal abrirá los domingos "
    "durante el verano, una medida que los vecinos habían pedido desde hace años.",
    "fr": "Le conseil municipal a décidé mardi que la piscine sera fermée pendant les travaux, "
    "une décision qui a provoqué la colère des habitants du quartier et des clubs.",
    "it": "Il consiglio comunale ha deciso martedì che la piscina sarà chiusa per i lavori, una "
    "decisione che non è piaciuta agli abitanti del quartiere e alle società sportive.",
    "nl": "De gemeenteraad heeft dinsdag besloten dat het zwembad tijdens de werkzaamheden "
    "gesloten blijft, een besluit dat bij de bewoners van de wijk niet goed viel.",
    "el": "Το δημοτικό συμβούλιο αποφάσισε την Τρίτη ότι η πισίνα θα παραμείνει κλειστή κατά "
    "τη διάρκεια των εργασιών.",
    "ja": "市議会は火曜日、工事期間中はプールを閉鎖することを決定した。住民からは反発の声が上がっている。",
}


@pytest.mark.parametrize(("lang", "text"), sorted(SAMPLES.items()))
def test_detects(lang, text):
    assert detect_language(text) == lang


def test_unsure_is_none():
    assert detect_language("Ok") is None
    assert detect_language("1234 5678 ---- ....") is None
    assert (
        detect_language("Photo Gallery Video Podcasts Newsletter Archive Contact Imprint") is None
    )


# --- word counts -------------------------------------------------------------------

# imported here, not in the import block at the top (other branches edit that)
from crawler.extract.language import count_words  # noqa: E402

JA_PARAGRAPHS = [
    "市議会は火曜日、駅前の再開発計画を正式に承認し、二〇二八年までに図書館と保育所を備えた複合施設を建てることを決めた。",
    "計画では、老朽化した商店街の一部を取り壊し、跡地に広場と駐輪場を整備する。総事業費は約百二十億円にのぼる見通しだ。",
    "一方、商店街の店主らは立ち退きの条件が明らかでないとして説明会の開催を求めており、市は来月にも住民向けの会合を開く予定だ。",
]
ZH_TEXT = "市政府周二宣布，新的地铁线路将于明年年底通车，沿线将新建十二个车站，预计每天可运送乘客约三十万人次。"
TH_TEXT = "กรุงเทพมหานครประกาศแผนพัฒนาระบบขนส่งสาธารณะใหม่เพื่อลดปัญหาการจราจรติดขัดในเขตเมือง"


def test_spaced_languages_count_as_whitespace_tokens():
    for text in SAMPLES.values():
        if text.isascii() or " " in text:
            assert count_words(text) == len(text.split())
    assert count_words("") == 0
    assert count_words("Straße — 12 Häuser") == 4


def test_japanese_counts_words_not_paragraphs():
    text = "\n".join(JA_PARAGRAPHS)
    assert len(text.split()) == 3  # what whitespace splitting says
    words = count_words(text, "ja")
    # about two characters a word: each paragraph has 55-60 characters
    assert 70 <= words <= 100
    assert count_words(text) == words  # the kana say Japanese without a hint


def test_chinese_and_thai_count_by_characters():
    assert 25 <= count_words(ZH_TEXT, "zh") <= 40  # 46 Han characters
    assert 10 <= count_words(TH_TEXT) <= 25  # 66 Thai letters and signs
    # Han characters read as Japanese (longer words) when the language says so
    assert count_words(ZH_TEXT, "ja") < count_words(ZH_TEXT, "zh")


def test_mixed_tokens_count_both_parts():
    assert count_words("2024年") == 2
    assert count_words("iPhone発売") == 2
    assert count_words("東京 Tokyo") == 2
