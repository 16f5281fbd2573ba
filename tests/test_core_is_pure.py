"""The core that the Scrapy shell translates for imports neither Scrapy nor Twisted."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "crawler.config",
    "crawler.core.pool",
    "crawler.core.writer",
    "crawler.core.view",
    "crawler.core.signals",
    "crawler.scaleout.codec",
    "crawler.scaleout.channel",
    "crawler.scaleout.drain",
]


@pytest.mark.parametrize("module", PURE)
def test_imports_neither_scrapy_nor_twisted(module):
    code = (
        f"import sys, {module}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
