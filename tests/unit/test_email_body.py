"""Mail bodies for display: sanitised HTML, text from HTML, quoted history and signatures folded."""

from __future__ import annotations

import re

import pytest

from relais.channels.email.body import (
    fold_html,
    html_to_text,
    render_html,
    sanitize_html,
    split_quoted,
)

UNSAFE = (
    "<script", "alert(", "javascript:", "vbscript:", "expression", "url(", "evil.example",
    "onerror", "onload", "onclick", "<iframe", "<form", "data:",
)  # fmt: skip


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  JAVASCRIPT:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<div style="width: expression(alert(1))">x</div>',
        '<div style="background: url(https://t.example/x.gif)">x</div>',
        '<div style="color: red; behavior: url(x.htc)">x</div>',
        '<div style="exp/**/ression(alert(1))">x</div>',
        '<div style="w\\idth: expr\\65ssion(alert(1))">x</div>',
        '<svg onload="alert(1)"></svg>',
        '<iframe src="https://evil.example/"></iframe>',
        '<object data="x.swf"></object><embed src="x.swf">',
        '<form action="https://evil.example/"><input name="p"></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<base href="https://evil.example/">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        "<style>@import url(https://evil.example/x.css);</style>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<p onclick="alert(1)" onmouseover="alert(2)">x</p>',
    ],
)
def test_sanitize_removes_what_runs_or_calls_out(hostile: str) -> None:
    safe = sanitize_html(f"<p>before</p>{hostile}<p>after</p>").lower()

    assert "<p>before</p>" in safe
    for needle in UNSAFE:
        assert needle not in safe


def test_remote_images_lose_their_source_but_keep_alt_unless_asked() -> None:
    html = '<img src="https://cdn.example/logo.png" alt="Logo"><img src="http://cdn.example/x.png">'

    blocked = sanitize_html(html)
    allowed = sanitize_html(html, remote_images=True)

    assert blocked == '<img alt="Logo"><img>'
    assert 'src="https://cdn.example/logo.png"' in allowed
    assert "http://cdn.example" not in allowed  # plain http never, even when asked


def test_cid_images_are_rewritten_by_the_callback() -> None:
    html = '<img src="cid:logo@x" alt="L"><img src="CID:<missing@x>" alt="M">'
    urls = {"logo@x": "/api/v1/attachments/42"}

    safe = sanitize_html(html, cid_url=urls.get)

    assert '<img src="/api/v1/attachments/42" alt="L">' in safe
    assert '<img alt="M">' in safe


def test_links_open_elsewhere_without_referrer_and_layout_styles_stay() -> None:
    html = (
        '<a href="https://shop.example/o/1">order</a>'
        '<td style="color: #333; font-weight: bold; position: absolute">x</td>'
    )

    safe = sanitize_html(f"<table><tr>{html}</tr></table>")

    assert 'rel="noopener noreferrer nofollow"' in safe and 'target="_blank"' in safe
    assert "color:#333" in safe.replace(" ", "") and "font-weight:bold" in safe.replace(" ", "")
    assert "position" not in safe


def test_html_to_text_keeps_blocks_on_lines_and_drops_scripts_styles_titles() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h1>Order&nbsp;#12</h1><p>Line one<br>line two</p><script>x=1</script>"
        "<table><tr><td>Qty</td><td>2</td></tr></table><ul><li>a</li><li>b &amp; c</li></ul>"
        "</body></html>"
    )

    assert html_to_text(html) == "Order\u00a0#12\n\nLine one\nline two\n\nQty\t2\n\na\nb & c"


def test_split_quoted_english_attribution_and_quote() -> None:
    text = (
        "Thanks!\n\nOn Mon, 3 Jun 2024 at 10:00, Support <s@x.example>\nwrote:\n> Hello\n> there\n"
    )

    folded = split_quoted(text)

    assert folded.new_text == "Thanks!"
    assert folded.quoted_history.startswith("On Mon, 3 Jun 2024")
    assert folded.signature == ""


def test_split_quoted_french_attribution_signature_and_sent_from() -> None:
    text = (
        "Merci beaucoup.\n\n-- \nJean Dupont\nSociété X\n\n"
        "Le lun. 3 juin 2024 à 10:00, Support <s@x.example> a écrit :\n> Bonjour\n"
    )

    folded = split_quoted(text)

    assert folded.new_text == "Merci beaucoup."
    assert folded.signature == "-- \nJean Dupont\nSociété X"
    assert folded.quoted_history.startswith("Le lun. 3 juin")
    phone = split_quoted("Ok.\n\nEnvoyé de mon iPhone\n")
    assert (phone.new_text, phone.signature) == ("Ok.", "Envoyé de mon iPhone")


@pytest.mark.parametrize(
    "history",
    [
        "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nOld text\n",
        "-------- Message d'origine --------\nDe : Support\nDate : lundi\n\nAncien texte\n",
        "________________________________\nDe : Support <s@x.example>\nEnvoyé : lundi 3 juin\n"
        "À : Client\nObjet : Re: x\n\nAncien texte\n",
        "From: Support <s@x.example>\nSent: Monday, June 3, 2024 10:00\nTo: Client\n\nOld\n",
        "> quoted one\n> quoted two\n",
    ],
)
def test_split_quoted_outlook_and_quote_blocks(history: str) -> None:
    folded = split_quoted("New answer.\n\n" + history)

    assert folded.new_text == "New answer."
    assert folded.quoted_history == history


def test_interleaved_answers_are_not_folded_away() -> None:
    text = "On Mon, Support wrote:\n> Which size?\nM please.\n> Which colour?\nBlue.\n"

    folded = split_quoted(text)

    assert "M please." in folded.new_text and "Blue." in folded.new_text


def test_folding_keeps_every_character_of_the_source() -> None:
    texts = [
        "A\n-- \nsig\nOn x wrote:\n> q\n",
        "Hi\n\nDe : a\nEnvoyé : b\nc\n",
        "just text, nothing quoted",
        "> all quoted\n> only\n",
    ]
    for text in texts:
        folded = split_quoted(text)
        joined = folded.new_text + folded.signature + folded.quoted_history
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", text)


def test_fold_html_gmail_quote_and_outlook_divider() -> None:
    gmail = '<div>Yes.</div><div class="gmail_quote">On x wrote:<blockquote>q</blockquote></div>'
    outlook = '<div>Ok.</div><div id="divRplyFwdMsg"><b>From:</b> S</div><div>old text</div>'
    desktop = (
        '<p>Fine.</p><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm '
        '0cm 0cm"><p><b>From:</b> S</p></div><p>old text</p>'
    )

    assert fold_html(gmail) == ("<div>Yes.</div>", gmail[len("<div>Yes.</div>") :])
    new, history = fold_html(outlook)
    assert new == "<div>Ok.</div>" and "old text" in history
    new, history = fold_html(desktop)
    assert new == "<p>Fine.</p>" and history.endswith("<p>old text</p>")


def test_a_quote_followed_by_more_answer_is_not_folded() -> None:
    html = "<p>About this:</p><blockquote>your question</blockquote><p>my answer</p>"

    assert fold_html(html) == (html, "")


def test_render_html_puts_the_history_in_a_closed_details_and_escapes_the_summary() -> None:
    html = '<p>Yes.</p><blockquote type="cite"><p>Old</p><script>x</script></blockquote>'

    shown = render_html(html, summary="<b>history</b>")

    assert shown.startswith('<p>Yes.</p><details class="relais-quoted">')
    assert "<summary>&lt;b&gt;history&lt;/b&gt;</summary>" in shown
    assert "<p>Old</p>" in shown and "<script" not in shown


@pytest.mark.parametrize("tag", ["div", "blockquote", "table", "span", "p", "li"])
def test_html_nested_or_repeated_two_hundred_thousand_times_is_shown_without_running_away(
    tag: str,
) -> None:
    html = f"<{tag}>" * 200_000 + "<script>alert(1)</script>x"

    shown = render_html(html)
    text = html_to_text(html)

    assert "<script" not in shown and text.endswith("x")


def test_too_deep_html_is_shown_as_escaped_text() -> None:
    html = "<div>" * 1000 + "<b>bold</b> &amp; <img src=x onerror=alert(1)>"

    shown = sanitize_html(html)

    assert shown.startswith("<pre>") and "<img" not in shown and "&amp;" in shown
    assert "bold &" in html_to_text(html)
