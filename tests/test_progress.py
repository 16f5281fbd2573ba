from crawler.extensions.progressline import Snapshot, summary_line


def test_summary_line_counts_and_rate():
    stats = {
        "response_received_count": 120,
        "corpus/articles/stored": 90,
        "corpus/articles/updated": 2,
        "corpus/duplicates/exact": 5,
        "corpus/duplicates/url": 1,
        "corpus/skipped/known": 7,
        "corpus/failures/download": 3,
        "corpus/failures/parse": 1,
    }
    before = Snapshot.from_stats({"response_received_count": 20}, at=0.0)
    now = Snapshot.from_stats(stats, at=10.0, queued=42)
    assert summary_line(now, before) == (
        "120 pages, 92 articles, 6 duplicates, 7 already known, 4 failures; 10.0 pages/s, 42 queued"
    )
    assert summary_line(now, None).endswith("4 failures")


def test_an_article_replaced_by_an_earlier_copy_counts_as_a_duplicate():
    # three stored articles became duplicates; two of them this crawl had stored
    stats = {
        "response_received_count": 10,
        "corpus/articles/stored": 8,
        "corpus/duplicates/exact": 1,
        "corpus/replaced/near": 2,
        "corpus/replaced/exact": 1,
        "corpus/replaced_in_crawl": 2,
    }
    line = summary_line(Snapshot.from_stats(stats, at=1.0), None)
    assert line.startswith("10 pages, 6 articles, 4 duplicates, ")


def test_a_warc_ingest_counts_its_page_records_as_pages():
    # one archive file fetched (a response), 250 HTML response records in it
    stats = {
        "response_received_count": 1,
        "warc/records/read": 400,
        "warc/records/pages": 250,
        "corpus/articles/stored": 240,
        "corpus/duplicates/exact": 10,
    }
    before = Snapshot.from_stats({"warc/records/pages": 50, "response_received_count": 1}, at=0.0)
    line = summary_line(Snapshot.from_stats(stats, at=4.0), before)
    assert line.startswith("250 pages, 240 articles, 10 duplicates, ")
    assert "50.0 pages/s" in line
