import gzip
import random

import pytest

from crawler.extract.decoding import NotText, decode


def test_utf8():
    assert decode("Grüße aus Köln".encode()).text == "Grüße aus Köln"


def test_bom_wins():
    assert decode(b"\xef\xbb\xbfhello world").text == "hello world"


def test_charset_declared_only_in_meta_tag():
    body = '<html><head><meta charset="windows-1251"></head><body><p>Привет, мир</p></body></html>'
    out = decode(body.encode("cp1251"), is_html=True)
    assert "Привет, мир" in out.text


def test_wrong_transport_charset_falls_back_to_meta():
    body = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        "</head><body><p>Новости дня</p></body></html>"
    )
    out = decode(body.encode("cp1251"), declared_encoding="utf-8", is_html=True)
    assert "Новости дня" in out.text


def test_gzip_is_unpacked():
    assert (
        decode(gzip.compress(b"<p>compressed page</p>"), is_html=True).text
        == "<p>compressed page</p>"
    )


def test_gzip_bomb_is_refused():
    bomb = gzip.compress(b"\0" * (25 * 1024 * 1024))
    with pytest.raises(NotText, match="gzip bomb"):
        decode(bomb)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"%PDF-1.7\n%binary", "PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
        (random.Random(42).randbytes(2048), "binary"),
        (b"\xff\xfe\xfa\x00\x01\x02" * 100, "undecodable"),
    ],
)
def test_not_text(body, words):
    with pytest.raises(NotText, match=words):
        decode(body)


def test_legacy_encoding_detected():
    text = "Le gouvernement a annoncé des mesures économiques très attendues par les entreprises."
    assert decode(text.encode("latin-1")).text == text


def test_control_bytes_over_five_percent_are_binary_but_whitespace_is_text():
    words = b"plain words of a page " * 20  # 440 bytes
    # tabs, newlines, form feeds and carriage returns are text, however many
    assert decode(words + b"\t\n\x0c\r" * 200).text.startswith("plain words")
    # other control bytes: a few are tolerated, over 5 % of the first bytes are not
    assert decode(words + b"\x01" * 20).text.startswith("plain words")
    with pytest.raises(NotText, match="control characters"):
        decode(words + b"\x01\x02\x1f" * 10)


@pytest.mark.parametrize("declared", ["iso-8859-1", "iso-8859-15", "windows-1252"])
def test_valid_utf8_wins_over_a_declared_single_byte_charset(declared):
    """A page that says Latin-1 but whose bytes are UTF-8 (a stale meta tag)
    decodes as UTF-8, not as mojibake ("sanciÃ³n")."""
    body = (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={declared}">'
        "</head><body><p>A sanción llegó después de la carrera, según el comité.</p></body></html>"
    ).encode()
    assert "sanción llegó después" in decode(body, is_html=True).text
    assert "sanción llegó" in decode(body, declared_encoding=declared, is_html=True).text


def test_real_latin1_bytes_still_decode_as_declared():
    body = '<html><head><meta charset="iso-8859-1"></head><body><p>Café à Paris, été</p>'
    assert "Café à Paris, été" in decode(body.encode("latin-1"), is_html=True).text


def test_a_declared_multibyte_charset_is_not_second_guessed():
    body = '<html><head><meta charset="shift_jis"></head><body><p>東京の天気は晴れです。</p>'
    assert "東京の天気は晴れです" in decode(body.encode("shift_jis"), is_html=True).text
