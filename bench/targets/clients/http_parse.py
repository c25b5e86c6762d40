"""Reading HTTP/1.x answers as bytes arrive, and writing GET requests: the minimal client's protocol, pure.

    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")   # [Response(200, 2, None, True)]
    parser.feed_eof()                                                    # None: nothing under way
    request_bytes("127.0.0.1", 8080, "/health")                          # b'GET /health HTTP/1.1\\r\\n...'

Bodies are delimited by Content-Length, chunked coding (extensions and trailers read and dropped) or the
connection's close; informational (1xx) answers are skipped, 204 and 304 have none, HTTP/1.0 keeps the connection
only with ``Connection: keep-alive``, and Transfer-Encoding wins over Content-Length (RFC 9112 section 6.3). What
is not HTTP raises ``MalformedResponse`` (an ``http.client.HTTPException``) with the reason.
"""

from __future__ import annotations

import http.client
from typing import NamedTuple

MAX_HEAD = 65_536
"""Most bytes a status line and headers (or a trailer line) may take."""
MAX_LINE = 1_024
"""Most bytes a chunk size line may take."""
_NO_BODY = frozenset({204, 304})


class MalformedResponse(http.client.HTTPException):
    """The server's answer is not HTTP/1.x as this client reads it."""


class Response(NamedTuple):
    """One parsed answer."""

    status: int
    nbytes: int
    """Body bytes (after chunked decoding)."""
    server_timing: str | None
    """The raw ``Server-Timing`` header, if any."""
    keep_alive: bool
    """The connection may carry another request."""


def _digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (``str.isdigit`` also takes superscripts and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def request_bytes(host: str, port: int, target: str) -> bytes:
    """The bytes of one GET of ``target`` (path and query) on ``host:port`` (the port left out when it is 80).

    >>> request_bytes("127.0.0.1", 8080, "/health")
    b'GET /health HTTP/1.1\\r\\nHost: 127.0.0.1:8080\\r\\nUser-Agent: iobench\\r\\nAccept: */*\\r\\n\\r\\n'
    >>> request_bytes("::1", 80, "/")[:29]
    b'GET / HTTP/1.1\\r\\nHost: [::1]\\r\\n'
    """
    name = f"[{host}]" if ":" in host else host
    authority = name if port == 80 else f"{name}:{port}"
    return f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: iobench\r\nAccept: */*\r\n\r\n".encode("ascii")


class ResponseParser:
    """Incremental parser of the answers on one connection: ``feed`` returns those it completed, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: tuple[int, str | None, bool] | None = None
        """Status, Server-Timing and keep-alive of the answer whose body is being read (None: reading a head)."""
        self._mode = ""
        """How the body ends: 'length', 'chunked' or 'close'."""
        self._left = 0
        """'length': body bytes still to come; 'chunked': bytes of the current chunk still to come (-1: a size
        line is next; -2: the CRLF after a chunk's data is next; -3: trailers are next)."""
        self._nbytes = 0

    def feed(self, data: bytes) -> list[Response]:
        """Take bytes from the connection; the answers they complete. MalformedResponse if they are not HTTP."""
        self._buffer += data
        done: list[Response] = []
        while True:
            if self._head is None and not self._read_head():
                return done
            if self._head is None:  # an informational answer: nothing more to read for it
                continue
            if not self._read_body():
                return done
            status, timing, keep_alive = self._head
            done.append(Response(status, self._nbytes, timing, keep_alive))
            self._head = None

    def feed_eof(self) -> Response | None:
        """The server closed the connection: the answer a close ends, None if none was under way, or
        ConnectionResetError when it was cut short."""
        if self._head is not None and self._mode == "close":
            status, timing, _ = self._head
            self._head = None
            return Response(status, self._nbytes + len(self._buffer), timing, False)
        if self._head is not None or self._buffer:
            raise ConnectionResetError("the server closed the connection in the middle of an answer")
        return None

    def _read_head(self) -> bool:
        while self._buffer.startswith(b"\r\n"):  # stray line ends before a status line are ignored (RFC 9112)
            del self._buffer[:2]
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise MalformedResponse(f"no end of headers within {MAX_HEAD} bytes")
            return False
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.1", "HTTP/1.0") or not _digits(code) or rest[3:4] not in ("", " "):
            raise MalformedResponse(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(code)
        length: int | None = None
        codings: list[str] = []
        timing: str | None = None
        tokens: set[str] = set()
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise MalformedResponse(f"not a header line: {line[:80]!r}")
            key = name.strip().lower()
            if key == "content-length":
                text = value.strip()
                if not _digits(text) or (length is not None and int(text) != length):
                    raise MalformedResponse(f"bad Content-Length: {value.strip()[:40]!r}")
                length = int(text)
            elif key == "transfer-encoding":
                codings += [c.strip().lower() for c in value.split(",") if c.strip()]
            elif key == "server-timing":
                timing = value.strip() if timing is None else f"{timing}, {value.strip()}"
            elif key == "connection":
                tokens |= {t.strip().lower() for t in value.split(",")}
        if 100 <= status < 200:
            return True  # informational: the real answer follows
        keep_alive = "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens)
        self._nbytes = 0
        if status in _NO_BODY:
            self._mode, self._left = "length", 0
        elif codings:  # Transfer-Encoding wins over Content-Length, and then the connection ends (RFC 9112 6.3)
            if length is not None:
                keep_alive = False
            if codings[-1] == "chunked":
                self._mode, self._left = "chunked", -1
            else:
                self._mode, keep_alive = "close", False
        elif length is not None:
            self._mode, self._left = "length", length
        else:
            self._mode, keep_alive = "close", False
        self._head = (status, timing, keep_alive)
        return True

    def _read_body(self) -> bool:
        if self._mode == "length":
            taken = min(self._left, len(self._buffer))
            del self._buffer[:taken]
            self._left -= taken
            self._nbytes += taken
            return self._left == 0
        if self._mode == "close":
            self._nbytes += len(self._buffer)
            self._buffer.clear()
            return False
        return self._read_chunks()

    def _read_chunks(self) -> bool:
        while True:
            if self._left == -1:  # a size line
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_LINE:
                        raise MalformedResponse(f"no end of a chunk size line within {MAX_LINE} bytes")
                    return False
                size = bytes(self._buffer[:end]).split(b";", 1)[0].strip()
                del self._buffer[: end + 2]
                try:
                    self._left = int(size, 16)
                except ValueError:
                    raise MalformedResponse(f"bad chunk size {size[:20]!r}") from None
                if self._left < 0:
                    raise MalformedResponse(f"bad chunk size {size[:20]!r}")
                if self._left == 0:
                    self._left = -3
            elif self._left == -2:  # the CRLF after a chunk
                if len(self._buffer) < 2:
                    return False
                if self._buffer[:2] != b"\r\n":
                    raise MalformedResponse("a chunk does not end with CRLF")
                del self._buffer[:2]
                self._left = -1
            elif self._left == -3:  # trailers, up to an empty line
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    if len(self._buffer) > MAX_HEAD:
                        raise MalformedResponse(f"no end of trailers within {MAX_HEAD} bytes")
                    return False
                del self._buffer[: end + 2]
                if end == 0:
                    return True
            else:
                taken = min(self._left, len(self._buffer))
                del self._buffer[:taken]
                self._nbytes += taken
                self._left -= taken
                if self._left:
                    return False
                self._left = -2
