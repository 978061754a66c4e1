"""QR codes as PNG bytes, made in memory with no network and no Pillow:
`qrcode` computes the modules, a few lines of zlib write the PNG."""
from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M

#: The official VNeID app (Ministry of Public Security): the only places to install it from.
VNEID_LINKS = {
    "google_play": "https://play.google.com/store/apps/details?id=com.vnid",
    "app_store": "https://apps.apple.com/vn/app/vneid/id1582750311",
}


def qr_matrix(data: str, border: int = 4) -> list[list[bool]]:
    """The QR code's modules (True = dark), with a quiet zone of `border`."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    return matrix


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


@lru_cache(maxsize=16)
def qr_png(data: str, scale: int = 8, border: int = 4) -> bytes:
    """A black-on-white 8-bit greyscale PNG of `data`'s QR code, `scale` px per module."""
    matrix = qr_matrix(data, border)
    size = len(matrix) * scale
    rows = []
    for line in matrix:
        pixels = b"".join((b"\x00" if dark else b"\xff") * scale for dark in line)
        rows.extend([b"\x00" + pixels] * scale)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # greyscale, 8 bits
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + _chunk(b"IEND", b""))


def read_png_modules(png: bytes, scale: int = 8) -> list[list[bool]]:
    """The modules back from a PNG written by `qr_png` (tests use it)."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        kind = png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width = struct.unpack(">I", data[:4])[0]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width + 1
    modules = []
    for y in range(0, width, scale):
        row = raw[y * stride + 1:(y + 1) * stride]
        modules.append([row[x] == 0 for x in range(0, width, scale)])
    return modules
