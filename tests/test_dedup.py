from crawler.dedup.exact import content_hash


def test_hash_ignores_case_spacing_punctuation_and_unicode_form():
    a = "Café owners protest.\nThe council said “no”."
    b = 'CAFE\u0301 owners   protest\nthe council said "no"'
    assert content_hash(a) == content_hash(b)


def test_hash_changes_with_words():
    assert content_hash("The council said no.") != content_hash("The council said yes.")
