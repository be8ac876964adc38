"""parse_message on what mail servers really deliver, hostile and broken input included.

The big and hostile messages are generated here rather than committed. None of these tests
times anything: each would take minutes or exhaust memory if a bound were missing.
"""

from __future__ import annotations

import base64
import io
import tracemalloc
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from relais.channels.email.charset import decode_bytes, decode_header
from relais.channels.email.parse import SYNTHETIC_DOMAIN, parse_message

HEAD = b"From: Client <client@example.com>\r\nTo: support@relais.example\r\n"


def message(*lines: bytes, body: bytes = b"Hello.\r\n") -> bytes:
    return HEAD + b"".join(line + b"\r\n" for line in lines) + b"\r\n" + body


def with_attachment(payload: bytes, *, filename: bytes, content_type: bytes) -> bytes:
    encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return message(
        b"Subject: attached",
        b"Message-ID: <attached@example.com>",
        b'Content-Type: multipart/mixed; boundary="B"',
        body=b"--B\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--B\r\n"
        b"Content-Type: " + content_type + b'\r\nContent-Disposition: attachment; filename="'
        b"" + filename + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + encoded + b"--B--\r\n",
    )


def test_a_30_mb_message_is_read_whole_and_its_attachment_decoded_on_demand() -> None:
    payload = bytes(range(256)) * (22 * 1024 * 1024 // 256)
    raw = with_attachment(payload, filename=b"big.bin", content_type=b"application/octet-stream")
    assert len(raw) > 30_000_000

    mail = parse_message(raw)

    assert mail.defects == ()
    assert mail.text == "See attached."
    (attachment,) = mail.attachments
    assert attachment.size == len(payload)
    assert attachment.data() == payload
    assert mail.raw is raw  # kept as received, not copied


def test_past_max_bytes_the_rest_is_dropped_and_said() -> None:
    raw = with_attachment(b"x" * 3_000_000, filename=b"big.bin", content_type=b"text/csv")

    mail = parse_message(raw, max_bytes=1_000_000)

    assert any("only the first 1000000 read" in d for d in mail.defects)
    assert mail.subject == "attached"
    assert mail.text == "See attached."
    assert mail.attachments[0].size < 1_000_000


def test_a_million_line_header_is_cut_keeping_the_fields_the_body_needs() -> None:
    junk = b"X-Junk: filler\r\n" * 1_000_000
    raw = (
        HEAD
        + junk
        + b"Subject: after the junk\r\nContent-Type: text/plain; charset=utf-8\r\n"
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(b"Le corps est lisible.")
    )

    mail = parse_message(raw)

    assert any("header section over" in d for d in mail.defects)
    assert mail.subject == "after the junk"
    assert mail.text == "Le corps est lisible."
    assert len(mail.headers.raw) <= 1000 + 5


def test_a_header_field_of_megabytes_is_cut() -> None:
    mail = parse_message(message(b"Subject: " + b"x" * 5_000_000))

    assert any("header section over" in d for d in mail.defects)
    assert 0 < len(mail.subject) < 300_000
    assert mail.text == "Hello.\n"


def test_a_zip_bomb_attachment_is_stored_as_the_bytes_it_is_never_decompressed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.bin", b"\0" * 50_000_000)
    bomb = buffer.getvalue()
    assert len(bomb) < 100_000
    raw = with_attachment(bomb, filename=b"invoice.zip", content_type=b"application/zip")

    tracemalloc.start()
    try:
        mail = parse_message(raw)
        data = mail.attachments[0].data()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert mail.attachments[0].filename == "invoice.zip"
    assert mail.attachments[0].size == len(bomb)
    assert data == bomb
    assert peak < 5_000_000  # 50 MB had it been inflated


def test_a_message_without_message_id_gets_a_stable_synthetic_one() -> None:
    raw = message(b"Subject: no id")

    first, again = parse_message(raw), parse_message(raw)
    other = parse_message(raw + b"more")

    assert first.message_id_synthetic
    assert first.message_id == again.message_id
    assert first.message_id.endswith(f"@{SYNTHETIC_DOMAIN}>")
    assert other.message_id != first.message_id
    assert any("no Message-ID" in d for d in first.defects)


def test_nul_bytes_never_reach_the_text_but_stay_in_attachments() -> None:
    binary = b"\0\1\2\0" * 10
    raw = with_attachment(binary, filename=b"a\0b.bin", content_type=b"application/octet-stream")
    raw = raw.replace(b"See attached.", b"See\0attached.").replace(
        b"Subject: attached", b"Subject: a\0b"
    )

    mail = parse_message(raw)

    assert "\0" not in mail.text and "\0" not in mail.subject
    assert "\0" not in (mail.attachments[0].filename or "")
    assert mail.attachments[0].data() == binary
    assert any("NUL" in d for d in mail.defects)


def test_invalid_utf8_in_headers_and_body_is_read_with_a_defect() -> None:
    raw = message(
        b"Subject: Caf\xe9 cr\xe8me",
        b"Content-Type: text/plain; charset=utf-8",
        body=b"Caf\xe9 \xff\xfe cr\xe8me\r\n",
    )

    mail = parse_message(raw)

    assert mail.subject == "Café crème"
    assert "Caf" in mail.text and "cr" in mail.text
    assert any("Subject: 8-bit header" in d for d in mail.defects)
    assert any("invalid UTF-8" in d for d in mail.defects)


def test_many_empty_parts_are_cut_at_the_limit() -> None:
    parts = b"--P\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 200_000
    raw = message(b'Content-Type: multipart/mixed; boundary="P"', body=parts + b"--P--\r\n")

    mail = parse_message(raw, max_parts=100)

    assert any("more than 100 MIME parts" in d for d in mail.defects)
    assert mail.text.count("x") <= 100


def test_parts_nested_thousands_deep_are_cut_at_the_depth_limit() -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(5000)
    )
    raw = HEAD + b"Subject: deep\r\n" + nested + b"Content-Type: text/plain\r\n\r\ndeep\r\n"

    mail = parse_message(raw)

    assert mail.subject == "deep"
    assert any("nested deeper than 20" in d for d in mail.defects)


def test_hostile_parameter_lists_cost_little() -> None:
    part = (
        b"--P\r\nContent-Type: text/plain; " + b";" * 100_000 + b"\r\n"
        b"Content-Disposition: attachment; " + b'a="b"; ' * 20_000 + b"\r\n\r\nx\r\n"
    )
    raw = message(b"Content-Type: multipart/mixed; boundary=P", body=part * 50 + b"--P--\r\n")

    mail = parse_message(raw)

    assert len(mail.attachments) == 50
    assert any("Content-Type cut to 4096 characters" in d for d in mail.defects)


def test_empty_and_header_only_input_are_messages_too() -> None:
    assert parse_message(b"").message_id_synthetic
    headers_only = parse_message(b"Subject: only headers\r\nFrom: a@example.com")
    assert headers_only.subject == "only headers"
    assert headers_only.text == ""


def test_addresses_are_lowercased_and_names_decoded() -> None:
    mail = parse_message(
        message(
            b"Cc: =?utf-8?Q?Ren=C3=A9e?= <Renee@Example.COM>, other@example.org",
            b"Reply-To: replies@example.net",
        )
    )

    assert mail.from_ is not None and mail.from_.address == "client@example.com"
    assert [(a.name, a.address) for a in mail.cc] == [
        ("Renée", "renee@example.com"),
        ("", "other@example.org"),
    ]
    assert [a.address for a in mail.reply_to] == ["replies@example.net"]


def test_message_ids_are_normalised_and_references_kept_in_order() -> None:
    mail = parse_message(
        message(
            b"Message-ID:   a1@example.com  ",
            b"In-Reply-To: <p2@example.com> (the one before)",
            b"References: <r1@example.com>\r\n <p2@example.com> <p2@example.com>",
        )
    )

    assert mail.message_id == "<a1@example.com>"
    assert mail.in_reply_to == "<p2@example.com>"
    assert mail.references == ("<r1@example.com>", "<p2@example.com>")


def test_dates_without_zone_are_utc_and_bad_dates_none() -> None:
    naive = parse_message(message(b"Date: Mon, 3 Jun 2024 10:00:00 -0000"))
    broken = parse_message(message(b"Date: yesterday at noon"))

    assert naive.date is not None and naive.date.utcoffset() is not None
    assert broken.date is None


def test_attachment_names_in_rfc_2231_and_encoded_words_are_decoded_and_made_safe() -> None:
    body = (
        b"--B\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%82%AC.pdf\r\n"
        b'\r\nx\r\n--B\r\nContent-Type: application/pdf; name="=?utf-8?B?w6l0w6kucGRm?="\r\n'
        b"\r\ny\r\n--B\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nz\r\n--B--\r\n'
    )
    mail = parse_message(message(b"Content-Type: multipart/mixed; boundary=B", body=body))

    assert [a.filename for a in mail.attachments] == ["Résumé €.pdf", "été.pdf", "passwd"]


def test_html_only_mail_gets_its_text_from_the_html() -> None:
    mail = parse_message(
        message(
            b"Content-Type: text/html; charset=utf-8",
            body=b"<p>Bonjour&nbsp;!</p><script>alert(1)</script><p>Ligne&nbsp;2</p>",
        )
    )

    assert mail.text == "Bonjour\u00a0!\n\nLigne\u00a02"
    assert mail.html is not None and "<script>" in mail.html  # kept as sent, sanitised on display


def test_a_part_that_is_a_whole_message_without_its_wrapper_is_an_attached_message() -> None:
    body = (
        b"--B\r\nContent-Type: text/plain\r\n\r\nReport.\r\n--B\r\n"
        b"Received: from x by y\r\nFrom: a@example.com\r\nMessage-ID: <inner@example.com>\r\n"
        b"Subject: inner\r\n\r\nInner body.\r\n--B--\r\n"
    )
    mail = parse_message(message(b"Content-Type: multipart/mixed; boundary=B", body=body))

    assert mail.text == "Report."
    assert [a.content_type for a in mail.attachments] == ["message/rfc822"]
    assert b"<inner@example.com>" in mail.attachments[0].data()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    mail = parse_message(raw)
    assert "\0" not in mail.text
    mail.text.encode("utf-8")  # no lone surrogates: storable as UTF-8
    mail.subject.encode("utf-8")


CHARSETS = (
    None, "utf-8", "iso-8859-1", "us-ascii", "windows-1252", "utf-16", "utf-7", "iso-2022-jp",
    "x-unknown", "zlib", "base64", "gb2312", "", "'\"", "unicode-escape",
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(CHARSETS))
def test_any_bytes_in_any_charset_decode_to_storable_text(data: bytes, charset: str | None) -> None:
    text, _ = decode_bytes(data, charset)
    assert "\0" not in text
    text.encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_header_value_decodes_to_one_line(value: str) -> None:
    text, _ = decode_header(value)
    assert "\n" not in text and "\r" not in text and "\0" not in text


def test_encoded_words_in_every_charset_seen_in_the_wild() -> None:
    cases = {
        "=?iso-8859-1?Q?Cr=E8me?=": "Crème",
        "=?windows-1252?Q?=93quoted=94_=80?=": "“quoted” €",
        "=?utf-8?B?w6l0w6k=?=": "été",
        "=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=": "café",  # a character split over two words
        "=?ks_c_5601-1987?B?x9GxuQ==?=": "한국",
        "=?gb2312?B?1tDOxA==?=": "中文",
        "=?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=": "日本語",
        "=?x-unknown?Q?abc?=": "abc",
        "=?utf-8?Q?a?= b =?utf-8?Q?c?=": "a b c",
        "=?utf-8?B?!!!notbase64?=": "=?utf-8?B?!!!notbase64?=",
        "plain =?utf-8*fr?Q?mot?= text": "plain mot text",
    }
    for raw, expected in cases.items():
        assert decode_header(raw)[0] == expected, raw
