"""Small, valid media files of the formats pygame decodes, written byte by byte for the tests.

Each writer makes the least file its format's decoder (SDL_image, SDL_mixer
and the libraries they use: libxmp for the tracker modules) accepts: a short
tone, one note, or a few pixels of known colours.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

RATE = 22050  # samples per second of the sampled sounds
TONE = 440.0


def _tone(seconds: float, rate: int = RATE) -> list[float]:
    return [math.sin(2 * math.pi * TONE * i / rate) for i in range(int(seconds * rate))]


def _iff_chunk(name: bytes, data: bytes) -> bytes:
    return name + struct.pack(">I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def _extended(value: float) -> bytes:
    """Encode ``value`` (> 0) as an IEEE 754 80-bit float, as AIFF stores its sample rate."""
    exponent = math.frexp(value)[1]  # value = m * 2**exponent with 0.5 <= m < 1
    mantissa = int(value * 2 ** (64 - exponent))  # its leading 1 at bit 63, as the format wants
    return struct.pack(">HQ", exponent - 1 + 16383, mantissa)


def aiff(path: Path, seconds: float = 0.25) -> None:
    """Write a mono 16-bit AIFF tone."""
    samples = b"".join(struct.pack(">h", round(v * 12000)) for v in _tone(seconds))
    common = struct.pack(">hIh", 1, len(samples) // 2, 16) + _extended(RATE)
    form = b"AIFF" + _iff_chunk(b"COMM", common) + _iff_chunk(b"SSND", bytes(8) + samples)
    path.write_bytes(_iff_chunk(b"FORM", form))


def voc(path: Path, seconds: float = 0.25) -> None:
    """Write a Creative Voice file: one block of 8-bit unsigned samples."""
    divisor = round(1_000_000 / RATE)
    samples = bytes(round(128 + v * 90) for v in _tone(seconds, 1_000_000 // divisor))
    version = 0x010A
    header = b"Creative Voice File\x1a" + struct.pack(
        "<HHH", 26, version, (~version + 0x1234) & 0xFFFF
    )
    size = len(samples) + 2
    block = bytes([1]) + size.to_bytes(3, "little") + bytes([256 - divisor, 0]) + samples
    path.write_bytes(header + block + b"\0")


def midi(path: Path) -> None:
    """Write a standard MIDI file: one piano note, a quarter of a second."""
    events = bytes([0x00, 0xC0, 0x00, 0x00, 0x90, 60, 100, 0x30, 0x80, 60, 64, 0x00, 0xFF, 0x2F, 0])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96)
    path.write_bytes(header + b"MTrk" + struct.pack(">I", len(events)) + events)


# -- tracker modules: one sample, one pattern, one note, then a pattern break ---------------

_SAMPLE_LENGTH = 2000  # bytes of 8-bit sample: a square wave


def _square(signed: bool) -> bytes:
    high, low = (64, 256 - 64) if signed else (192, 64)
    return bytes(high if (i // 16) % 2 else low for i in range(_SAMPLE_LENGTH))


def _pad(data: bytes, to: int) -> bytes:
    return data + bytes(-len(data) % to)


def mod(path: Path) -> None:
    """Write a 4-channel ProTracker module (M.K.): a note, then a pattern break on row 1."""
    title = _pad(b"pygame_async", 20)
    sample = _pad(b"square", 22) + struct.pack(">HBBHH", _SAMPLE_LENGTH // 2, 0, 64, 0, 1)
    unused = bytes(22) + struct.pack(">HBBHH", 0, 0, 0, 0, 1)
    orders = bytes([1, 127]) + bytes(128)
    period = 428  # C in ProTracker's middle octave
    rows = [bytes(16)] * 64
    rows[0] = bytes([0x00 | period >> 8, period & 0xFF, 0x10, 0x00]) + bytes(12)  # sample 1
    rows[1] = bytes(4) + bytes([0, 0, 0x0D, 0x00]) + bytes(8)  # Dxx: pattern break, the end
    data = title + sample + unused * 30 + orders + b"M.K." + b"".join(rows) + _square(True)
    path.write_bytes(data)


def s3m(path: Path) -> None:
    """Write a Scream Tracker 3 module: one instrument, a note, then a pattern break."""
    header = _pad(b"pygame_async", 28) + bytes([0x1A, 16, 0, 0])
    header += struct.pack("<HHHHHH", 2, 1, 1, 0, 0x1320, 2)  # orders, instruments, patterns...
    header += b"SCRM" + bytes([64, 6, 125, 0xB0, 0, 0]) + bytes(8) + struct.pack("<H", 0)
    header += bytes([0, 8]) + bytes([255] * 30)  # channels: left 1, right 1, none else
    orders = bytes([0, 255])
    instrument_at, pattern_at = 112, 192  # file offsets, multiples of 16 ("parapointers")
    pointers = struct.pack("<HH", instrument_at // 16, pattern_at // 16)
    rows = bytes([0x20 | 0, 0x40, 1, 0])  # row 0, channel 0: note C-4, instrument 1
    rows += bytes([0x80 | 1, 3, 0, 0])  # row 1, channel 1: command C (pattern break)
    rows += bytes(62)  # 62 empty rows
    pattern = struct.pack("<H", len(rows) + 2) + rows
    sample_at = _pad_to(pattern_at + len(pattern), 16)
    instrument = bytes([1]) + _pad(b"square.raw", 12)
    instrument += bytes([sample_at // 16 >> 16]) + struct.pack("<H", sample_at // 16 & 0xFFFF)
    instrument += struct.pack("<IIIBBBBI", _SAMPLE_LENGTH, 0, 0, 64, 0, 0, 0, 8363)
    instrument += bytes(12) + _pad(b"square", 28) + b"SCRS"
    data = _pad(header + orders + pointers, 16)
    assert len(data) == instrument_at
    data = _pad(data + instrument, 16)
    assert len(data) == pattern_at
    data = _pad(data + pattern, 16) + _square(False)
    path.write_bytes(data)


def _pad_to(offset: int, to: int) -> int:
    return offset + -offset % to


def xm(path: Path) -> None:
    """Write a FastTracker 2 module: one instrument, a note, then a pattern break."""
    header = b"Extended Module: " + _pad(b"pygame_async", 20) + b"\x1a" + _pad(b"tests", 20)
    header += struct.pack("<HI", 0x0104, 276)
    header += struct.pack("<HHHHHHHH", 1, 0, 2, 1, 1, 1, 6, 125)  # length, restart, channels...
    header += bytes(256)  # the order table: pattern 0
    empty = b"\x80"
    rows = b"\x83" + bytes([49, 1]) + empty  # row 0: note C-4, instrument 1; channel 2 empty
    rows += empty + b"\x98" + bytes([0x0D, 0])  # row 1: channel 2, effect D: pattern break
    rows += (empty + empty) * 62
    pattern = struct.pack("<IBHH", 9, 0, 64, len(rows)) + rows
    instrument = _pad(b"square", 22) + struct.pack("<BHI", 0, 1, 40)
    instrument = struct.pack("<I", 263) + instrument
    instrument = instrument + bytes(263 - len(instrument))
    sample_header = struct.pack("<IIIBbBBbB", _SAMPLE_LENGTH, 0, 0, 64, 0, 0, 128, 0, 0)
    sample_header += _pad(b"square", 22)
    samples, previous = bytearray(), 0
    for value in _square(True):  # XM stores each sample as the difference from the last
        samples.append((value - previous) & 0xFF)
        previous = value
    path.write_bytes(header + pattern + instrument + sample_header + bytes(samples))


def it(path: Path) -> None:
    """Write an Impulse Tracker module (sample mode): a note, then a pattern break."""
    header = b"IMPM" + _pad(b"pygame_async", 26) + struct.pack("<H", 0x1004)
    header += struct.pack("<HHHHHHHH", 2, 0, 1, 1, 0x0214, 0x0200, 0x0009, 0)
    header += bytes([128, 48, 6, 125, 128, 0]) + struct.pack("<HII", 0, 0, 0)
    header += bytes([32, 32] + [32 | 128] * 62)  # channel panning: two used, the rest off
    header += bytes([64] * 64)  # channel volumes
    orders = bytes([0, 255])
    sample_at = len(header) + len(orders) + 8
    pattern_at = sample_at + 80
    pointers = struct.pack("<II", sample_at, pattern_at)
    rows = bytes([1 | 0x80, 0x03, 60, 1, 0])  # row 0, channel 1: note C-5, sample 1
    rows += bytes([2 | 0x80, 0x08, 3, 0, 0])  # row 1, channel 2: command C, pattern break
    rows += bytes(62)
    pattern = struct.pack("<HH", len(rows), 64) + bytes(4) + rows
    data_at = pattern_at + len(pattern)
    sample = b"IMPS" + _pad(b"square.raw", 12) + bytes([0, 64, 0x01, 64]) + _pad(b"square", 26)
    sample += bytes([0x01, 0]) + struct.pack("<IIIIIII", _SAMPLE_LENGTH, 0, 0, 8363, 0, 0, data_at)
    sample += bytes(4)
    assert len(sample) == 80
    path.write_bytes(header + orders + pointers + sample + pattern + _square(True))


# -- images ----------------------------------------------------------------------------------


def pixels(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The RGBA colours the image writers use, row by row: each pixel's own."""
    return [
        (x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), 90, 255)
        for y in range(height)
        for x in range(width)
    ]


def xcf(path: Path, width: int = 8, height: int = 6) -> None:
    """Write a GIMP image (XCF version 1): one visible RGBA layer, stored uncompressed."""
    layer_at, hierarchy_at, level_at, tile_at = 46, 108, 128, 144
    data = b"gimp xcf v001\0" + struct.pack(">III", width, height, 0)  # RGB image
    data += struct.pack(">II", 0, 0)  # no more properties
    data += struct.pack(">II", layer_at, 0) + struct.pack(">I", 0)  # layers; no channels
    assert len(data) == layer_at
    data += struct.pack(">III", width, height, 1) + struct.pack(">I", 2) + b"L\0"  # RGBA layer
    # Visible, at (0, 0) (SDL_image 2.0 leaves both unset without these properties).
    data += struct.pack(">III", 8, 4, 1) + struct.pack(">IIii", 15, 8, 0, 0)
    data += struct.pack(">II", 0, 0)  # no more properties
    data += struct.pack(">II", hierarchy_at, 0)  # no layer mask
    assert len(data) == hierarchy_at
    data += struct.pack(">IIIII", width, height, 4, level_at, 0)
    assert len(data) == level_at
    data += struct.pack(">IIII", width, height, tile_at, 0)
    assert len(data) == tile_at
    data += b"".join(bytes(colour) for colour in pixels(width, height))
    path.write_bytes(data + bytes(width * height * 2))  # the reader may read past one tile


def qoi(path: Path, width: int = 8, height: int = 6) -> None:
    """Write a QOI image, every pixel a QOI_OP_RGBA."""
    data = b"qoif" + struct.pack(">IIBB", width, height, 4, 0)
    data += b"".join(b"\xff" + bytes(colour) for colour in pixels(width, height))
    path.write_bytes(data + bytes(7) + b"\x01")
