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
