"""news-please side by side with this crawler, on the same pages, in one run.

    python bench/newsplease.py [--pages 2000]

news-please is installed into its own throwaway virtual environment
(bench/out/np-venv; never a project dependency). Reported:
- extraction F1 of both on ../shared/bench/extraction/dev (score.py);
- pages/s of both crawling the same generated local site: ours with a real
  ``scrapy crawl sitemaps``, news-please with ``NewsPlease.from_urls`` (its
  library crawler: threads to fetch, a process pool to extract).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCH = ROOT.parent / "shared" / "bench" / "extraction"
sys.path.insert(0, str(HERE))

import crawl as crawl_bench  # noqa: E402
import server as site_server  # noqa: E402
import sitegen  # noqa: E402

VENV = HERE / "out" / "np-venv"


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "news-please==1.6.16"], check=True
        )
    return python


def f1(python: Path, func: str, name: str, out: Path) -> dict:
    subprocess.run(
        [
            str(python),
            str(BENCH / "score.py"),
            str(BENCH / "dev"),
            "--func",
            func,
            "--json",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    data = json.loads(out.read_text())
    [result] = data["extractors"].values()
    return {"name": name, **result["overall"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    args = ap.parse_args()
    np_python = ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        ours = f1(
            Path(sys.executable),
            "crawler.extract.processing:extract_text",
            "ours",
            tmp_path / "o.json",
        )
        theirs = f1(
            np_python, str(HERE / "np_adapter.py") + ":extract", "news-please", tmp_path / "n.json"
        )
        for r in (ours, theirs):
            print(
                f"extraction on dev: {r['name']:12s} F1 {r['f1']:.3f} (P {r['precision']:.3f} "
                f"R {r['recall']:.3f}), median {r['ms_median']:.1f} ms/page, {r['errors']} errors"
            )

        site = tmp_path / "site"
        sitegen.generate(site, args.pages)
        srv = site_server.start(site)
        urls = sorted(u for u in srv.files if u.endswith(".html"))
        (tmp_path / "urls.txt").write_text("\n".join(srv.base + u for u in urls))
        mine = crawl_bench.run_crawl(srv.base, tmp_path / "corpus.db", -1)
        proc = subprocess.run(
            [str(np_python), str(HERE / "np_adapter.py"), "crawl", str(tmp_path / "urls.txt")],
            capture_output=True,
            text=True,
            check=True,
        )
        np_run = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"crawl of the same {len(urls)} pages: ours {mine['pages_per_s']:.1f} pages/s "
            f"(peak {mine['peak_rss_mb']:.0f} MB), news-please {np_run['pages_per_s']:.1f} pages/s "
            f"({np_run['with_text']} with text)"
        )
        srv.shutdown()


if __name__ == "__main__":
    main()
