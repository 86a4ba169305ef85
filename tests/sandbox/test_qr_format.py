"""``qrFormat`` on QR payments (FACTS.md §3): TEXT/TARGETURL gives the landing URL, IMAGE/SVG+XML (the
default) and IMAGE/PNG give a QR image served by the sandbox that encodes that landing URL.

Every answer here, the images included, is validated against the specs by the ``client`` fixture."""

from __future__ import annotations

import io
import struct
from typing import Any

import httpx
import pytest
import segno
from starlette.applications import Starlette

from epay_desktop.sandbox import SandboxConfig, create_app
from epay_desktop.sandbox.controls import QR_BORDER
from tests.sandbox.conftest import BASE_URL, Api, new_key
from tests.sandbox.test_api import code

pytestmark = pytest.mark.anyio

LANDING = BASE_URL + "/sandbox/v1/landing?token="
QR_IMAGE = BASE_URL + "/sandbox/v1/qr-image?token="


async def create_qr(api: Api, reference: str, qr_format: Any = None, **extra: Any) -> httpx.Response:
    body: dict[str, Any] = {"userFlow": "QR", "returnUrl": None} | extra
    if qr_format is not None:
        body["qrFormat"] = qr_format
    return await api.create(reference, **body)


def token_of(url: str) -> str:
    return url.rsplit("?token=", 1)[1]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_text_targeturl_gives_the_landing_url_a_phone_opens(
    api: Api, client: httpx.AsyncClient
) -> None:
    response = await create_qr(api, "qr-text-0001", {"format": "TEXT/TARGETURL"})
    assert response.status_code == 201
    url = response.json()["redirectUrl"]
    assert url.startswith(LANDING)
    page = await client.get(url)
    assert page.status_code == 200
    assert "qr-text-0001" in page.text
    assert (await api.get("qr-text-0001")).json()["redirectUrl"] == url


async def test_without_qr_format_a_qr_payment_points_at_an_svg_of_the_landing_url(
    api: Api, client: httpx.AsyncClient
) -> None:
    response = await create_qr(api, "qr-svg-00001")
    assert response.status_code == 201
    url = response.json()["redirectUrl"]
    assert url.startswith(QR_IMAGE)
    image = await client.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert image.text.lstrip().startswith("<svg")
    # The image encodes the landing URL of this very payment (same token), and that page works.
    landing = LANDING + token_of(url)
    expected = io.BytesIO()
    segno.make(landing, error="m").save(expected, kind="svg", scale=4, border=QR_BORDER, xmldecl=False)
    assert image.content == expected.getvalue()
    assert "qr-svg-00001" in (await client.get(landing)).text
    explicit = await create_qr(api, "qr-svg-00002", {"format": "IMAGE/SVG+XML"})
    assert explicit.json()["redirectUrl"].startswith(QR_IMAGE)


@pytest.mark.parametrize(("size", "expected_max"), [(None, 1024), (100, 100), (300, 300), (2000, 2000)])
async def test_png_is_square_and_at_most_the_size_asked(
    api: Api, client: httpx.AsyncClient, size: int | None, expected_max: int
) -> None:
    qr_format: dict[str, Any] = {"format": "IMAGE/PNG"} | ({"size": size} if size is not None else {})
    response = await create_qr(api, f"qr-png-{size or 0:05d}", qr_format)
    assert response.status_code == 201, response.text
    image = await client.get(response.json()["redirectUrl"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    width, height = png_size(image.content)
    assert width == height
    modules = segno.make(LANDING + token_of(response.json()["redirectUrl"]), error="m").symbol_size(
        scale=1, border=QR_BORDER
    )[0]
    # Whole pixels per module: as large as fits in the size asked (at least one pixel per module).
    assert max(modules, expected_max - modules) < width <= max(modules, expected_max)


@pytest.mark.parametrize(
    ("qr_format", "field"),
    [
        ({"format": "IMAGE/PNG", "size": 99}, "qrFormat.size"),
        ({"format": "IMAGE/PNG", "size": 2001}, "qrFormat.size"),
        ({"format": "IMAGE/PNG", "size": "300"}, "qrFormat.size"),
        ({"format": "IMAGE/PNG", "size": True}, "qrFormat.size"),
        ({"format": "image/png"}, "qrFormat.format"),
        ({"size": 300}, "qrFormat.format"),
        ("TEXT/TARGETURL", "qrFormat"),
    ],
)
async def test_bad_qr_formats_are_refused(api: Api, qr_format: Any, field: str) -> None:
    response = await create_qr(api, "qr-bad-00001", qr_format)
    assert response.status_code == 400
    assert code(response) is None  # a validation error names the field, no ErrorCode (FACTS.md §10)
    assert response.json()["extraDetails"][0]["name"] == field
    assert (await api.get("qr-bad-00001")).status_code == 404  # nothing was created


@pytest.mark.parametrize("kind", ["IMAGE/SVG+XML", "TEXT/TARGETURL"])
async def test_size_is_ignored_for_other_formats(api: Api, kind: str) -> None:
    # epayment-1.8.1.yaml qrFormat.size: "Only applicable when the format is IMAGE/PNG" (ignored, not
    # refused, elsewhere).
    response = await create_qr(api, f"qr-size-{kind[:4].lower()}1", {"format": kind, "size": 300})
    assert response.status_code == 201, response.text


async def test_qr_format_is_ignored_for_other_flows(api: Api) -> None:
    response = await api.create("web-qr-fmt-1", qrFormat={"format": "IMAGE/PNG", "size": 200})
    assert response.status_code == 201
    assert response.json()["redirectUrl"].startswith(LANDING)


async def test_qr_format_is_part_of_the_idempotent_body(api: Api) -> None:
    key = new_key()
    first = await create_qr(api, "qr-idem-0001", {"format": "TEXT/TARGETURL"}, key=key)
    again = await create_qr(api, "qr-idem-0001", {"format": "TEXT/TARGETURL"}, key=key)
    assert again.status_code == 201
    assert again.json() == first.json()
    other = await create_qr(api, "qr-idem-0001", {"format": "IMAGE/PNG"}, key=key)
    assert other.status_code == 409


async def test_unknown_or_non_image_tokens_have_no_image(api: Api, client: httpx.AsyncClient) -> None:
    text = (await create_qr(api, "qr-noimg-001", {"format": "TEXT/TARGETURL"})).json()["redirectUrl"]
    assert (await client.get(QR_IMAGE + token_of(text))).status_code == 404
    assert (await client.get(QR_IMAGE + "nope")).status_code == 404
    assert (await client.get("/sandbox/v1/qr-image")).status_code == 404


async def test_qr_images_survive_a_restart_with_a_state_file(tmp_path: Any) -> None:
    config = SandboxConfig(data="empty", rate_limits=False, state_file=tmp_path / "state.sqlite")

    async def serve(app: Starlette) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)

    async with await serve(create_app(config)) as first:
        api = Api(first)
        await api.fetch_token()
        url = (await create_qr(api, "qr-saved-001", {"format": "IMAGE/PNG", "size": 200})).json()[
            "redirectUrl"
        ]
        before = (await first.get(url)).content
    async with await serve(create_app(config)) as second:
        after = await second.get(url)
    assert after.status_code == 200
    assert after.content == before
