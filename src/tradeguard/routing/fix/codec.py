"""FIX 4.4 tag=value messages: built with body length and checksum, read off a stream.

A message is taken off the stream only whole and with a correct checksum.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

BEGIN_STRING = b"FIX.4.4"
SOH = b"\x01"
CHECKSUM_MODULO = 256
MAX_MESSAGE_BYTES = 65_536


class Tag:
    """The tags this engine uses (FIX 4.4 numbers)."""

    BEGIN_STRING = 8
    BODY_LENGTH = 9
    CHECKSUM = 10
    MSG_TYPE = 35
    SENDER = 49
    TARGET = 56
    SEQ_NUM = 34
    SENDING_TIME = 52
    POSS_DUP = 43
    ORIG_SENDING_TIME = 122
    ENCRYPT_METHOD = 98
    HEARTBEAT_INTERVAL = 108
    RESET_SEQ_NUM = 141
    TEST_REQ_ID = 112
    BEGIN_SEQ_NO = 7
    END_SEQ_NO = 16
    NEW_SEQ_NO = 36
    GAP_FILL = 123
    REF_SEQ_NUM = 45
    TEXT = 58
    CL_ORD_ID = 11
    ORIG_CL_ORD_ID = 41
    ORDER_ID = 37
    EXEC_ID = 17
    EXEC_TYPE = 150
    ORD_STATUS = 39
    SYMBOL = 55
    SIDE = 54
    ORDER_QTY = 38
    ORD_TYPE = 40
    PRICE = 44
    TIME_IN_FORCE = 59
    TRANSACT_TIME = 60
    LAST_QTY = 32
    LAST_PX = 31
    LEAVES_QTY = 151
    CUM_QTY = 14
    AVG_PX = 6
    POSS_RESEND = 97
    CXL_REJ_REASON = 102
    CXL_REJ_RESPONSE_TO = 434


class MsgType:
    """The message types this engine sends and takes."""

    HEARTBEAT = "0"
    TEST_REQUEST = "1"
    RESEND_REQUEST = "2"
    REJECT = "3"
    SEQUENCE_RESET = "4"
    LOGOUT = "5"
    LOGON = "A"
    NEW_ORDER_SINGLE = "D"
    EXECUTION_REPORT = "8"
    ORDER_CANCEL_REQUEST = "F"
    ORDER_CANCEL_REJECT = "9"
    ORDER_CANCEL_REPLACE_REQUEST = "G"
    ORDER_STATUS_REQUEST = "H"


ADMIN_TYPES = frozenset(
    {
        MsgType.HEARTBEAT,
        MsgType.TEST_REQUEST,
        MsgType.RESEND_REQUEST,
        MsgType.REJECT,
        MsgType.SEQUENCE_RESET,
        MsgType.LOGOUT,
        MsgType.LOGON,
    }
)


class FixFormatError(ValueError):
    """Bytes that are not a well-formed FIX 4.4 message."""


@dataclass(slots=True)
class Message:
    """A FIX message: its type and its body fields in order (header fields included)."""

    msg_type: str
    fields: list[tuple[int, str]] = field(default_factory=list)

    def get(self, tag: int, default: str | None = None) -> str | None:
        """The first value of ``tag``, or ``default``."""
        for key, value in self.fields:
            if key == tag:
                return value
        return default

    def require(self, tag: int) -> str:
        """The value of ``tag``; a format error if it is missing."""
        value = self.get(tag)
        if value is None:
            raise FixFormatError(f"tag {tag} is missing")
        return value

    def integer(self, tag: int, default: int = 0) -> int:
        """The value of ``tag`` as an integer (``default`` when missing)."""
        value = self.get(tag)
        return default if value is None else int(value)

    @property
    def seq_num(self) -> int:
        """MsgSeqNum (34)."""
        return self.integer(Tag.SEQ_NUM)

    @property
    def poss_dup(self) -> bool:
        """PossDupFlag (43) set."""
        return self.get(Tag.POSS_DUP) == "Y"


def sending_time(moment: datetime | None = None) -> str:
    """UTCTimestamp with milliseconds."""
    when = moment or datetime.now(UTC)
    return when.strftime("%Y%m%d-%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def encode(msg_type: str, fields: Iterable[tuple[int, str]]) -> bytes:
    """A whole message: BeginString, BodyLength, MsgType, ``fields``, CheckSum."""
    body = SOH.join(f"{tag}={value}".encode() for tag, value in ((Tag.MSG_TYPE, msg_type), *fields))
    body += SOH
    head = b"8=" + BEGIN_STRING + SOH + b"9=" + str(len(body)).encode() + SOH
    total = sum(head) + sum(body)
    return head + body + b"10=" + f"{total % CHECKSUM_MODULO:03d}".encode() + SOH


def decode(raw: bytes) -> Message:
    """The message in ``raw`` (one whole message, checksum checked)."""
    if not raw.endswith(SOH) or b"\x0110=" not in raw:
        raise FixFormatError("no checksum field")
    cut = raw.rindex(b"\x0110=") + 1
    expected = int(raw[cut + 3 : -1] or b"-1")
    if sum(raw[:cut]) % CHECKSUM_MODULO != expected:
        raise FixFormatError("checksum mismatch")
    pairs = [_pair(part) for part in raw[:cut].split(SOH) if part]
    if len(pairs) < 3 or pairs[0] != (Tag.BEGIN_STRING, BEGIN_STRING.decode()):  # noqa: PLR2004
        raise FixFormatError("not FIX.4.4")
    if pairs[1][0] != Tag.BODY_LENGTH or pairs[2][0] != Tag.MSG_TYPE:
        raise FixFormatError("header out of order")
    return Message(pairs[2][1], pairs[3:])


def _pair(part: bytes) -> tuple[int, str]:
    tag, equals, value = part.partition(b"=")
    if not equals or not tag.isdigit():
        raise FixFormatError(f"not a field: {part[:20]!r}")
    return int(tag), value.decode()


class StreamReader:
    """Cuts whole messages out of received bytes; keeps a partial one for the next read."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The whole messages now available, in order."""
        self._buffer += data
        while True:
            whole = self._next()
            if whole is None:
                return
            yield whole

    def _next(self) -> bytes | None:
        buffer = self._buffer
        start = buffer.find(b"8=FIX")
        if start < 0:
            self._buffer = b""
            return None
        length_at = buffer.find(b"\x019=", start)
        if length_at < 0:
            return None
        length_end = buffer.find(SOH, length_at + 3)
        if length_end < 0:
            return None
        length = int(buffer[length_at + 3 : length_end] or b"0")
        if length > MAX_MESSAGE_BYTES:
            raise FixFormatError("message too long")
        end = length_end + 1 + length + 7  # body, then "10=nnn\x01"
        if len(buffer) < end:
            return None
        self._buffer = buffer[end:]
        return buffer[start:end]
