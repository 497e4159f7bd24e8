"""Faithful exports at the edges real bibliographies are made of (issues #15
and #16): structure kept, characters every consumer reads, safe links, clean
errors for a broken CSL style. Each test goes through the CLI, as a user would."""

from __future__ import annotations

import json

import pytest


def import_bib(run, tmp_path, text: str, name: str = "in.bib"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run("import", str(path))
    assert result.exit_code == 0, result.stderr
    return result


# --- #16 item 1: only http(s) becomes a link in the HTML export -------------------

HOSTILE_URLS = {
    "js": "javascript:alert(document.cookie)",
    "data": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbs": " JavaScript:void(0)",
    "web": "https://example.org/paper?a=1&b=2",
}


def test_html_export_links_only_http_and_https(run, tmp_path):
    html5lib = pytest.importorskip("html5lib")
    bib = "".join(f"@misc{{{key}, title={{Title {key}}}, author={{Doe, Jane}}, year={{2020}}, url={{{url}}}}}\n"
                  for key, url in HOSTILE_URLS.items())
    import_bib(run, tmp_path, bib)
    for args in (("-f", "html"), ("-f", "html", "--style", "apa")):
        result = run("export", *args)
        assert result.exit_code == 0, result.stderr
        doc = html5lib.parse(result.stdout, namespaceHTMLElements=False)
        hrefs = [a.get("href") for a in doc.iter("a")]
        assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs
        text = "".join(doc.itertext())
        # Nothing is lost: a URL that may not be a link is shown as text.
        for key, url in HOSTILE_URLS.items():
            assert key == "web" or url.strip() in text, url
    plain = run("export", "-f", "html").stdout
    assert 'href="https://example.org/paper?a=1&amp;b=2"' in plain


# --- #16 item 6: a .csl file that is not a style is a usage error ------------------

@pytest.mark.parametrize("content, message", [
    (b"", "is not a CSL style"),
    (b"<notxml", "is not a CSL style"),
    (bytes(range(256)) * 4, "is not a CSL style"),
    (b"<html><body>not a style</body></html>", "root element is <html>"),
    (b'<?xml version="1.0"?><style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">'
     b"<info><title>x</title></info></style>", "no <bibliography>"),
])
def test_a_broken_csl_file_is_a_one_line_usage_error(run, tmp_path, content, message):
    import_bib(run, tmp_path, "@book{b, title={T}, author={Doe, J.}, publisher={P}, year={1999}}\n")
    style = tmp_path / "mine.csl"
    style.write_bytes(content)
    for fmt in ("text", "html"):
        result = run("export", "-f", fmt, "--style", str(style))
        assert result.exit_code == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("citetool: error: ") and message in lines[0], lines
        assert "internal error" not in result.stderr
