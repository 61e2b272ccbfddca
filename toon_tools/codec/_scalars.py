"""Primitive tokens: quoting, escaping and canonical numbers (spec §2, §4, §7).

Everything here is shared by the encoder and the decoder so that the two can never
disagree about what a token means. Every compiled regex of the codec lives here.
"""

from __future__ import annotations

import codecs
import re
import sys
from decimal import Decimal
from typing import Any, Callable, Final

from ._errors import ToonDecodeError
from ._types import Number

DEFAULT_MAX_DEPTH: Final = 1000
"""Default limit on nesting (containers plus nested field groups), as json's is
about 1000. The encoder and the decoder share it, so what one writes the other
reads back."""

#: Whether this module runs compiled by mypyc (setup.py's COMPILED). Compiled,
#: a loop over code points costs less than a call to a str method or a regex;
#: interpreted, it costs more. The few scans where that decides which is faster
#: have both forms, and the tests run both (CI's pure-Python fallback run).
COMPILED: Final = __file__.endswith((".so", ".pyd"))

#: §6: the delimiter symbol an array header carries inside its brackets; the
#: comma, the default delimiter, is written as nothing.
HEADER_DELIMITER: Final = {",": "", "\t": "\t", "|": "|"}

#: §5.1: a full-line comment: "#" after zero or more spaces (never a tab).
COMMENT_LINE: Final = re.compile(r" *#")

# ---------------------------------------------------------------- regexes (§4, §7)

#: §7.3: keys and field names matching this may stand unquoted.
UNQUOTED_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")

#: §4 number grammar without forbidden leading zeros ("05" and "-007" are strings).
NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")

_QUOTE_OR_BACKSLASH: Final = re.compile(r'["\\]')
_RAW_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f]")
_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")


#: Characters that force quoting anywhere in a string value (§7.2), per delimiter.
#: Lone surrogates are folded in so that quote() can reject them without a
#: second scan of every string.
UNSAFE_CHAR: Final = {
    d: re.compile(r'[:"\\\[\]{}\x00-\x1f\ud800-\udfff' + re.escape(d) + "]")
    for d in (",", "\t", "|")
}
_UNSAFE_COMMA: Final = UNSAFE_CHAR[","]
_UNSAFE_PIPE: Final = UNSAFE_CHAR["|"]
_UNSAFE_TAB: Final = UNSAFE_CHAR["\t"]
_NUMERIC_LIKE: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_RESERVED_WORDS: Final = frozenset({"true", "false", "null"})


def _flag_table(chars: str) -> bytes:
    """A ``bytes.translate`` table that keeps every byte but those of ``chars``
    (all ASCII), which it changes: ``b.translate(table) is b`` when ``b`` holds
    none of them (CPython and mypyc return the input itself when nothing changed)."""
    flagged = {ord(c) for c in chars}
    return bytes(c | 0x80 if c in flagged else c for c in range(256))


_CONTROLS: Final = "".join(map(chr, range(0x20)))
#: :data:`UNSAFE_CHAR` as translate tables over the UTF-8 form. Only ASCII
#: characters force quoting besides lone surrogates, which have no UTF-8 form
#: (encoding fails), and UTF-8 never hides an ASCII byte inside another
#: character: one C loop of a few instructions a byte decides.
_UNSAFE_BYTES_COMMA: Final = _flag_table(':"\\[]{},' + _CONTROLS)
_UNSAFE_BYTES_PIPE: Final = _flag_table(':"\\[]{}|' + _CONTROLS)
_UNSAFE_BYTES_TAB: Final = _flag_table(':"\\[]{}' + _CONTROLS)
#: The characters quote() must escape (§7.1), as a translate table.
_ESCAPED_TABLE: Final = _flag_table('"\\' + _CONTROLS)


def needs_quote(s: str, unsafe_char: re.Pattern[str]) -> bool:
    """§7.2: must this string value be quoted? One scan for the characters
    that force quoting, then the rules of its shape."""
    return has_unsafe_char(s, unsafe_char) or needs_quote_shape(s)


def has_unsafe_char(s: str, unsafe_char: re.Pattern[str]) -> bool:
    """Does ``s`` hold a character of ``unsafe_char`` (an :data:`UNSAFE_CHAR`
    entry)? One ``bytes.translate`` over the UTF-8 form: its C loop costs a few
    instructions a byte, where ``str.isprintable`` and a substring test per
    structural character cost more per character and much more per call."""
    if unsafe_char is _UNSAFE_COMMA:
        table = _UNSAFE_BYTES_COMMA
    elif unsafe_char is _UNSAFE_PIPE:
        table = _UNSAFE_BYTES_PIPE
    elif unsafe_char is _UNSAFE_TAB:
        table = _UNSAFE_BYTES_TAB  # the tab is among the controls
    else:
        return unsafe_char.search(s) is not None
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which is unsafe
        return True
    flagged = b.translate(table)
    return flagged is not b and flagged != b


def needs_quote_shape(s: str) -> bool:
    """The rules of §7.2 that look at the string's shape, not at its characters:
    empty; a leading blank, ``-``, ``#`` or byte order mark; a trailing blank;
    numeric-like; ``true``, ``false``, ``null``. For a string known to hold no
    character of :data:`UNSAFE_CHAR` (the encoder scans a whole column at
    once) it is the whole of :func:`needs_quote`.

    A leading U+FEFF is quoted because readers (ours included, §4 bytes) drop
    a byte order mark at the start of a document: an unquoted one would
    vanish. Characters are compared as code points: compiled, ``ord(s[i])``
    reads the string's buffer, where ``s[i]`` makes a string to look up in a
    set; one function, not three, spares the pure-Python build two calls."""
    n = len(s)
    if not n:
        return True
    c = ord(s[0])
    if c == 0x20 or c == 0x2D or c == 0x23 or c == 0x09 or c == 0xFEFF:
        return True
    last = ord(s[n - 1])
    if last == 0x20 or last == 0x09:
        return True
    if 0x30 <= c <= 0x39 or c == 0x2B:  # a digit or "+"
        return _NUMERIC_LIKE.match(s) is not None
    return n < 6 and s in _RESERVED_WORDS  # the length spares hashing a long string


# ---------------------------------------------------------------- escaping (§7.1)

_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPE_TABLE: Final = str.maketrans(
    {**{chr(c): f"\\u{c:04x}" for c in range(0x20)}, **_ESCAPES}
)
_UNESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}
_HEX: Final = frozenset("0123456789abcdefABCDEF")


def quote(s: str) -> str:
    """Wrap ``s`` in double quotes, escaping per §7.1 (lowercase ``\\uXXXX``).

    A lone surrogate (U+D800-U+DFFF) has no UTF-8 form and §7.1 forbids its
    escape, so no TOON text can hold it: it is refused with ``ValueError``.
    """
    try:
        b = s.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        bad = _SURROGATE.search(s)
        assert bad is not None
        raise ValueError(lone_surrogate_message(s, bad.start())) from None
    flagged = b.translate(_ESCAPED_TABLE)
    if flagged is b or flagged == b:  # nothing to escape
        return f'"{s}"'
    return f'"{s.translate(_ESCAPE_TABLE)}"'


def lone_surrogate_message(s: str, index: int) -> str:
    """Why a string holding a lone surrogate cannot be encoded (§7.1)."""
    shown = s if len(s) <= 40 else s[:37] + "..."
    return (f"cannot encode the lone surrogate U+{ord(s[index]):04X} at index {index} "
            f"of the string {shown!r}: TOON text is UTF-8 and has no escape for it (§7.1)")


def encode_key(key: str) -> str:
    """§7.3: a key or field name, quoted only when it must be."""
    if UNQUOTED_KEY.match(key):
        return key
    return quote(key)


class ScanError(Exception):
    """A token-level error at ``pos`` of the string being scanned.

    The parser turns it into a :class:`ToonDecodeError` with line and column.
    """

    def __init__(self, msg: str, pos: int) -> None:
        super().__init__(msg)
        self.msg = msg
        self.pos = pos


def find_closing_quote(s: str, pos: int) -> int:
    """Index of the quote closing the string that opens at ``s[pos]``."""
    search = _QUOTE_OR_BACKSLASH.search
    i = pos + 1
    while True:
        m = search(s, i)
        if m is None:
            raise ScanError("unterminated string", pos)
        j = m.start()
        if s[j] == '"':
            return j
        i = j + 2  # skip the escaped character, validated by unescape()


def unescape(s: str, start: int, end: int, strict: bool = True) -> str:
    """Decode the body ``s[start:end]`` of a quoted token per §7.1.

    In strict mode a raw control character other than HTAB is an error: the
    escape grammar's ``unescaped-char`` does not admit it.
    """
    if strict:
        bad = _RAW_CONTROL.search(s, start, end)
        if bad is not None:
            raise ScanError(
                f"unescaped control character U+{ord(bad.group()):04X} in quoted string",
                bad.start(),
            )
    i = s.find("\\", start, end)
    if i == -1:
        return s[start:end]
    parts: list[str] = []
    begin = start
    while i != -1:
        parts.append(s[begin:i])
        ch = s[i + 1] if i + 1 < end else ""
        simple = _UNESCAPES.get(ch)
        if simple is not None:
            parts.append(simple)
            begin = i + 2
        elif ch == "u":
            hexdigits = s[i + 2 : min(i + 6, end)]
            if len(hexdigits) < 4 or not _HEX.issuperset(hexdigits):
                raise ScanError("\\u must be followed by four hex digits", i)
            code = int(hexdigits, 16)
            if 0xD800 <= code <= 0xDFFF:
                raise ScanError(f"surrogate escape \\u{hexdigits} is not allowed", i)
            parts.append(chr(code))
            begin = i + 6
        else:
            raise ScanError(f"invalid escape sequence \\{ch}", i)
        i = s.find("\\", begin, end)
    parts.append(s[begin:end])
    return "".join(parts)


# ---------------------------------------------------------------- numbers (§2, §4)

LITERALS: Final[dict[str, Any]] = {"true": True, "false": False, "null": None}
#: Digits of the longest unsigned integer the fast path converts (always a machine int).
_MACHINE_DIGITS: Final = 18


def parse_token(
    tok: str,
    strict: bool = True,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
) -> Any:
    """One trimmed primitive token as a value (§4): a quoted string, a number,
    ``true``/``false``/``null``, else the token itself as a string. Raises
    :class:`ScanError` with the position of the problem in ``tok``."""
    n = len(tok)
    if not n:
        return ""
    # Characters are tested as code points: ord(s[i]) compiles to a read of
    # the string's buffer, where s[i] makes a one-character string to compare.
    c0 = ord(tok[0])
    if c0 == 34:  # '"'
        # Fast path: no escape and no inner quote, so the body is the value; a
        # printable body holds no control character (§7.1), so strict mode has
        # nothing to refuse.
        last = n - 1
        if (last and tok[last] == '"' and tok.find('"', 1, last) < 0
                and tok.find("\\", 1, last) < 0):
            body = tok[1:last]
            if not strict or body.isprintable():
                return body
        close = find_closing_quote(tok, 0)
        if close != last:
            raise ScanError("unexpected characters after closing quote", close + 1)
        return unescape(tok, 1, close, strict)
    if 48 <= c0 <= 57 or c0 == 45:  # a digit or '-'
        if COMPILED:
            # Fast path: a plain integer short enough to fit a machine word.
            if parse_int is None:
                value = small_int(tok, n)
                if value >= 0:
                    return value
            if number_kind(tok, n):
                return parse_number(tok, parse_float, parse_int)
            return tok
        if (parse_int is None and n <= _MACHINE_DIGITS and tok.isdigit() and tok.isascii()
                and (c0 != 48 or n == 1)):
            return int(tok)
        if NUMBER.match(tok):
            return parse_number(tok, parse_float, parse_int)
        return tok
    # Only these three words are literals (§4); comparing first spares a hash.
    if c0 == 116:  # 't'
        return True if tok == "true" else tok
    if c0 == 102:  # 'f'
        return False if tok == "false" else tok
    if c0 == 110 and tok == "null":  # 'n'
        return None
    return tok


def small_int(tok: str, n: int) -> int:
    """The value of ``tok`` (``n`` characters) if it is a plain integer (§4: ASCII
    digits, no leading zero) of at most 18 digits, which always fits a machine
    word; else -1. Read digit by digit in compiled code: cheaper than
    ``isdigit()``, ``isascii()`` and ``int()`` for the short numbers documents hold."""
    if n > _MACHINE_DIGITS or (n > 1 and ord(tok[0]) == 48):
        return -1
    value = 0
    for i in range(n):
        d = ord(tok[i]) - 48
        if d < 0 or d > 9:
            return -1
        value = value * 10 + d
    return value


def number_kind(tok: str, n: int) -> int:
    """Whether ``tok`` (``n`` characters, at least one) is a number by the
    grammar of :data:`NUMBER` (§4): 0 if not, 1 for an integer, 2 for a fraction
    or exponent form. Read by code point in compiled code, where a regex call
    costs ten times the whole scan."""
    i = 1 if ord(tok[0]) == 45 else 0  # '-'
    if i >= n:
        return 0
    x = ord(tok[i])
    i += 1
    if 49 <= x <= 57:  # no leading zero: '0' stands alone
        while i < n and 48 <= ord(tok[i]) <= 57:
            i += 1
    elif x != 48:
        return 0
    if i == n:
        return 1
    if ord(tok[i]) == 46:  # '.', then at least one digit
        i += 1
        j = i
        while i < n and 48 <= ord(tok[i]) <= 57:
            i += 1
        if i == j:
            return 0
        if i == n:
            return 2
    x = ord(tok[i])
    if x != 101 and x != 69:  # 'e' or 'E', then a sign and at least one digit
        return 0
    i += 1
    if i < n and (ord(tok[i]) == 43 or ord(tok[i]) == 45):
        i += 1
    j = i
    while i < n and 48 <= ord(tok[i]) <= 57:
        i += 1
    return 2 if j < i == n else 0


def parse_number(
    tok: str,
    parse_float: Callable[[str], Any] | None,
    parse_int: Callable[[str], Any] | None,
) -> Any:
    """Convert a token already known to be a number (:func:`number_kind`).

    Out-of-range policy (§4): integers are exact Python ints; fractions and
    exponent forms are floats unless ``parse_float`` says otherwise (pass
    ``decimal.Decimal`` for lossless decimals). A float that overflows is refused,
    and so is an integer with more digits than Python converts exactly
    (``sys.get_int_max_str_digits()``, 4,300 by default; the limit guards against
    quadratic-time conversion): ``parse_int=decimal.Decimal`` keeps those exactly.
    Refusals raise :class:`ScanError`.
    """
    if "." in tok or "e" in tok or "E" in tok:
        if parse_float is not None:
            return parse_float(tok)
        value = float(tok)
        if value in (_INF, _NINF):
            raise ScanError(f"number is out of the range of a float: {tok[:40]}", 0)
        return value if value else 0.0  # -0 decodes to 0 (§4)
    if parse_int is not None:
        return parse_int(tok)
    try:
        return int(tok)
    except ValueError:  # more digits than sys.get_int_max_str_digits()
        raise ScanError(too_many_digits(len(tok.lstrip("-"))), 0) from None


def too_many_digits(digits: int) -> str:
    """The refusal for an integer longer than Python converts exactly."""
    return (f"integer has {digits} digits, more than the {sys.get_int_max_str_digits()} "
            "Python converts exactly (sys.get_int_max_str_digits()); "
            "decode with parse_int=decimal.Decimal to keep it")


def format_int(n: int) -> str:
    """An int's decimal text (§2); one past Python's int-to-string limit raises a
    ``ValueError`` that says what to do instead."""
    try:
        return int.__repr__(n)
    except ValueError:
        raise ValueError(
            f"cannot encode an integer of more than {sys.get_int_max_str_digits()} digits: Python "
            "refuses to convert it exactly (sys.get_int_max_str_digits()); "
            "pass it as decimal.Decimal to keep every digit") from None


def format_primitive(v: Any, unsafe_char: re.Pattern[str]) -> str:
    """One JSON-model primitive as the encoder writes it (§2, §7.2);
    ``unsafe_char`` is the :data:`UNSAFE_CHAR` entry of the active delimiter."""
    t = type(v)
    if t is str:
        return quote(v) if needs_quote(v, unsafe_char) else v
    if t is int:
        return format_int(v)
    if t is float:
        return format_float(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if t is Number:
        return str.__str__(v)
    raise TypeError(f"not a TOON primitive: {t.__name__}")


_INF: Final = float("inf")
_NINF: Final = float("-inf")


def _place_point(negative: bool, digits: str, exp10: int) -> str:
    """Render ``0.<digits> x 10**exp10``-style values canonically (§2).

    ``digits`` has no leading or trailing zeros; the value is
    ``int(digits) * 10**(exp10 - len(digits) + 1)``, i.e. ``exp10`` is the
    power of ten of the first digit. Plain decimal inside 1e-6 <= |n| < 1e21,
    otherwise JSON exponent form with lowercase ``e`` and an explicit sign.
    """
    sign = "-" if negative else ""
    if -6 <= exp10 < 21:
        point = exp10 + 1  # digits before the decimal point
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'+' if exp10 >= 0 else '-'}{abs(exp10)}"


#: Floats below this magnitude are tried as hundredths (see format_float): their
#: hundredths then have at most 15 digits, which a double always tells apart.
_CENTS_MAX: Final = 1e13
#: The decimal tail of ``c / 100`` by ``c % 100``: "", ".01", ..., ".1", ..., ".99".
_HUNDREDTHS: Final = tuple(f".{c:02d}".rstrip("0") if c else "" for c in range(100))


def format_float(x: float) -> str:
    """Shortest round-tripping canonical form of a finite float (§2); else null.

    Fast path: a float that is the double nearest some ``c / 100`` (prices,
    percentages, rounded scores) is written from the integer ``c``. Its
    shortest round-tripping digits are those of ``c / 100``: two decimals of at
    most 15 significant digits never name the same double, so no other decimal
    as short names this float. ``repr``'s digit search (dtoa) costs several
    times more than this integer arithmetic.
    """
    a = -x if x < 0.0 else x
    if a < _CENTS_MAX:  # also false for nan and the infinities
        cents = int(a * 100.0 + 0.5)
        if cents / 100 == a:  # int / int is correctly rounded: the double nearest c / 100
            text = str(cents // 100) + _HUNDREDTHS[cents % 100]
            return "-" + text if x < 0.0 else text  # -0.0 is written 0 (§2)
    return _format_float_repr(x)


def _format_float_repr(x: float) -> str:
    """:func:`format_float` from ``repr``'s shortest round-tripping digits."""
    r = repr(x)
    if "e" not in r:
        if r[-1] == "n" or r[-1] == "f":  # nan, inf, -inf (§3)
            return "null"
        if r.endswith(".0"):
            r = r[:-2]
            return "0" if r == "-0" else r
        return r
    mantissa, _, exponent = r.partition("e")
    negative = mantissa[0] == "-"
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0")
    return _place_point(negative, digits, int(exponent))


def format_decimal(d: Decimal) -> str:
    """Exact canonical form of a finite Decimal (lossless, §2); NaN/Infinity -> null."""
    if not d.is_finite():
        return "null"
    sign, digit_tuple, exponent = d.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return "0"
    assert isinstance(exponent, int)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return _place_point(bool(sign), stripped, exponent + len(stripped) - 1)


# ---------------------------------------------------------------- bytes (§4)


def utf8_text(data: bytes, strict: bool = True) -> str:
    """``data`` decoded as UTF-8 (§4), a leading byte order mark dropped. Strict:
    ill-formed UTF-8 raises :class:`ToonDecodeError` at its line and column;
    otherwise it becomes U+FFFD."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if not strict:
            return data.decode("utf-8", errors="replace")
        line = data.count(b"\n", 0, e.start) + 1
        line_start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[line_start : e.start].decode("utf-8", errors="replace")) + 1
        raise ToonDecodeError(
            f"invalid UTF-8: byte 0x{data[e.start]:02x} ({e.reason})", line, column
        ) from None
