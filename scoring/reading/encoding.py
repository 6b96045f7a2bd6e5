"""Decoding text files: the encoding of a registry export, its first lines, a UTF-8 stream.

The encoding comes from a byte-order mark, the caller, or the whole sample (UTF-8 when most of
it decodes, else Windows-1256); whatever it is, Arrow is fed valid UTF-8.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from scoring.errors import InputFileError

__all__ = [
    "UNDECODED",
    "Encoding",
    "Utf8Stream",
    "decode_sample",
    "keeping_errors",
    "refuse_binary",
    "sample_lines",
    "text_encoding",
]

_BOMS = (  # UTF-32's marks first: they begin with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_AUTO = "utf-8, which most of the file is, and windows-1256 (cp1256)"
_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")
UNDECODED = re.compile(r"[\ud800-\udfff]")  # bytes kept by surrogateescape / surrogatepass


@dataclass(frozen=True)
class Encoding:
    """How a text file is decoded: the codec, the byte-order mark to skip, what was tried."""

    name: str
    bom: int
    tried: str


def text_encoding(head: bytes, given: str | None, at_end: bool) -> Encoding:
    """The encoding of a text file from its first bytes ``head`` (the whole file if ``at_end``).

    ``given`` (a codec name) wins, its byte order taken from a mark when it says UTF-16 or
    UTF-32; else a byte-order mark; else UTF-16 by its zero bytes; else UTF-8 when most lines
    decode as UTF-8, Windows-1256 when most do not.

    Raises
    ------
    InputFileError
        ``given`` is not a known codec.
    """
    bom, marked = next(((len(m), name) for m, name in _BOMS if head.startswith(m)), (0, None))
    if given is not None:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise InputFileError(
                f"unknown encoding '{given}' (try utf-8, cp1256 or utf-16)", parameter="encoding"
            ) from None
        name = "utf-8" if name == "utf-8-sig" else name
        if name in ("utf-16", "utf-32"):  # the mark says which byte order; little-endian if none
            name = marked if marked and marked.startswith(name) else f"{name}-le"
        return Encoding(name, bom if marked == name else 0, f"{name}, as asked")
    if marked is not None:
        return Encoding(marked, bom, f"{marked}, from the byte-order mark")
    wide = _utf16_without_mark(head)
    if wide is not None:
        return Encoding(wide, 0, f"{wide}, from the zero bytes between characters")
    return Encoding(_utf8_or_cp1256(head, at_end), 0, _AUTO)


def _utf16_without_mark(head: bytes) -> str | None:
    """UTF-16 without a mark: ASCII characters (digits, delimiters) leave every other byte 0."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2].count(0) / (len(head) // 2), head[1::2].count(0) / (len(head) // 2)
    if odd >= 0.2 and even <= 0.02:
        return "utf-16-le"
    if even >= 0.2 and odd <= 0.02:
        return "utf-16-be"
    return None


def _utf8_or_cp1256(head: bytes, at_end: bool) -> str:
    """UTF-8 when most lines that are not ASCII decode as UTF-8 (the rest are rejected)."""
    lines = head.split(b"\n")
    if not at_end and len(lines) > 1:
        lines = lines[:-1]  # may end inside a character
    foreign = [line for line in lines if not line.isascii()]
    failing = sum(1 for line in foreign if not _decodes_as_utf8(line, at_end))
    return "utf-8" if failing * 2 <= len(foreign) else "cp1256"


def _decodes_as_utf8(line: bytes, at_end: bool) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return not at_end and exc.start >= len(line) - 3  # a character cut by the sample's end
    return True


def keeping_errors(encoding: str) -> str:
    """The error handler that keeps undecodable bytes, so that they encode back to themselves."""
    return "surrogatepass" if encoding.startswith(("utf-16", "utf-32")) else "surrogateescape"


def decode_sample(raw: bytes, encoding: str) -> str:
    """The first bytes of a file as text, bytes that do not decode kept (see UNDECODED)."""
    if encoding.startswith(("utf-16", "utf-32")):
        width = 2 if encoding.startswith("utf-16") else 4
        raw = raw[: len(raw) // width * width]
    try:
        return raw.decode(encoding, errors=keeping_errors(encoding))
    except UnicodeDecodeError:  # UTF-32 beyond the code points: offsets are approximate then
        return raw.decode(encoding, errors="replace")


def sample_lines(text: str, at_end: bool) -> list[str]:
    """The complete lines of ``text``, each with its line break (``\\r\\n``, ``\\r`` or ``\\n``)."""
    pieces = _LINE_ENDS.split(text)  # line, break, line, break, ..., the rest
    lines = [pieces[i] + pieces[i + 1] for i in range(0, len(pieces) - 1, 2)]
    if at_end:
        return [*lines, pieces[-1]] if pieces[-1] else lines
    return lines[:-1]  # the last may be a "\r" whose "\n" was not read


def refuse_binary(lines: list[str], path: Path) -> None:
    """Refuse a file whose first lines are often NUL bytes; a NUL here and there rejects a row."""
    flagged = sum(1 for line in lines if "\x00" in line)
    if flagged and flagged * 10 >= len(lines):
        raise InputFileError(
            f"{path} is not a text file: {flagged} of its first {len(lines)} lines hold NUL "
            "bytes (binary data); if it is text, name its encoding",
            parameter="encoding",
        )


class Utf8Stream(io.RawIOBase):
    """A text file from ``offset`` on, as valid UTF-8 for Arrow to parse.

    Bytes that do not decode become U+FFFD (``replaced`` is set); NUL bytes pass (``nul``): the
    rows holding either are found among the parsed cells and rejected, the rest are read.
    ``quoted`` says a quote was met: only then can a cell hold a line break.
    """

    def __init__(self, path: Path, offset: int, encoding: str, line_break: bytes = b"\n") -> None:
        super().__init__()
        self._file = path.open("rb")
        self._file.seek(offset)
        self._decoder = (
            None
            if encoding == "utf-8"
            else codecs.getincrementaldecoder(encoding)(errors="replace")
        )
        self._pending: bytes | memoryview = b""
        self.nul = False
        self.replaced = False
        self.quoted = False
        #: The byte ending lines: "\n" ("\r\n" too), or "\r" in a file of old Mac line ends.
        self.line_break = line_break

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes | memoryview:
        if size is None or size < 0:
            size = 1 << 30
        if not self._pending:
            self._pending = (
                self._utf8(max(size, 4)) if self._decoder is None else self._transcode(size)
            )
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def readinto(self, buffer: bytearray | memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()

    def _utf8(self, size: int) -> bytes | memoryview:
        raw = self._file.read(size)
        cut = _complete_utf8(raw) if len(raw) == size else len(raw)  # whole characters only
        if cut < len(raw):
            self._file.seek(cut - len(raw), io.SEEK_CUR)  # the cut character starts the next read
        self.nul |= raw.find(b"\x00", 0, cut) >= 0
        self.quoted |= raw.find(b'"', 0, cut) >= 0
        if not _valid_utf8(raw, cut):
            self.replaced = True
            return raw[:cut].decode("utf-8", errors="replace").encode("utf-8")
        return memoryview(raw)[:cut] if cut < len(raw) else raw  # no copy

    def _transcode(self, size: int) -> bytes:
        text = ""
        while not text:  # a read may end inside a character: read on, or to the end
            raw = self._file.read(size)
            text = self._decoder.decode(raw, final=not raw)
            if not raw:
                break
        self.replaced |= "\ufffd" in text
        self.nul |= "\x00" in text
        self.quoted |= '"' in text
        return text.encode("utf-8")


def _complete_utf8(data: bytes) -> int:
    """Where the last complete UTF-8 character of ``data`` ends."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the last character starts here
            need = 1 if byte < 0xC0 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if need > back else len(data)
    return len(data)


def _valid_utf8(data: bytes, end: int) -> bool:
    """Arrow's (vectorised) UTF-8 check of ``data[:end]`` as one string value, not copied."""
    offsets = pa.py_buffer(np.array([0, end], dtype=np.int32))
    try:
        pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(data)]).validate(
            full=True
        )
    except pa.ArrowInvalid:
        return False
    return True
