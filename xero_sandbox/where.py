"""Xero's `where` filter and `order` clause, compiled to Python predicates.

Xero accepts a small .NET-flavoured expression language:
`ContactStatus=="ACTIVE" AND Name.StartsWith("Acme")`, `Contact.ContactID==Guid("…")`,
`Date>=DateTime(2024, 1, 31)`, `IsSupplier==true`, `EmailAddress!=null`,
`Name.ToLower().Contains("ltd")`. String comparisons are case-insensitive, as Xero's are.
"""

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Record = dict[str, Any]
Getter = Callable[[Record], Any]

# Bounds on what one query may cost: characters, tokens (every node of the expression is
# one or more tokens), nesting of parentheses and `!`, methods chained on one field, and
# `order` clauses. Beyond them the answer is a 400, never a deep recursion or a long scan.
MAX_LENGTH = 4000
MAX_TOKENS = 500
MAX_DEPTH = 20
MAX_CHAIN = 5
MAX_ORDER_CLAUSES = 10


class QueryError(ValueError):
    """The expression cannot be read or run; the server answers 400 QueryParseException."""


def unreadable(detail: str) -> QueryError:
    """A query the sandbox cannot read (Xero's wording for these is unconfirmed)."""
    return QueryError(f"[sandbox] Unable to parse the query: {detail}")


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>()!,.])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    if len(text) > MAX_LENGTH:
        raise unreadable(f"longer than {MAX_LENGTH} characters")
    while pos < len(text):
        if len(out) >= MAX_TOKENS:
            raise unreadable(f"more than {MAX_TOKENS} terms")
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise unreadable(f"unexpected character at {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        pos = match.end()
        if kind == "name" and value.upper() in ("AND", "OR", "NOT"):
            kind, value = "op", {"AND": "&&", "OR": "||", "NOT": "!"}[value.upper()]
        out.append((kind, value))
    return out


def _fold(value: Any) -> Any:
    """Case-insensitive comparison key for strings."""
    return value.casefold() if isinstance(value, str) else value


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(right, datetime) or isinstance(left, datetime):
        left, right = _as_datetime(left), _as_datetime(right)
    if op == "==":
        return _fold(left) == _fold(right) or (right is None and left in ("", []))
    if op == "!=":
        return not _compare("==", left, right)
    if left is None or right is None:
        return False
    try:
        left, right = _fold(left), _fold(right)
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    except TypeError:
        return False


# String methods: how many string arguments each takes, and what it does.
_METHODS: dict[str, tuple[int, Callable[..., Any]]] = {
    "startswith": (1, lambda s, arg: s.casefold().startswith(arg.casefold())),
    "endswith": (1, lambda s, arg: s.casefold().endswith(arg.casefold())),
    "contains": (1, lambda s, arg: arg.casefold() in s.casefold()),
    "tolower": (0, str.lower),
    "toupper": (0, str.upper),
}


class _Parser:
    def __init__(self, text: str, field: Callable[[str], Getter]):
        self.tokens = _tokens(text)
        self.pos = 0
        self.depth = 0
        self.field = field

    def enter(self) -> None:
        """One level deeper (a parenthesis or a `!`); bounded so parsing never recurses far."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise unreadable(f"nested deeper than {MAX_DEPTH} levels")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise unreadable(f"expected {value or 'more'} at token {self.pos}")
        self.pos += 1
        return token

    def parse(self) -> Getter:
        expr = self.disjunction()
        if self.peek() is not None:
            raise unreadable(f"unexpected {self.peek()[1]!r}")
        return expr

    def disjunction(self) -> Getter:
        parts = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else lambda r: any(p(r) for p in parts)

    def conjunction(self) -> Getter:
        parts = [self.negation()]
        while self.peek() == ("op", "&&"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else lambda r: all(p(r) for p in parts)

    def negation(self) -> Getter:
        if self.peek() == ("op", "!"):
            self.take()
            self.enter()
            inner = self.negation()
            self.depth -= 1
            return lambda r: not inner(r)
        return self.comparison()

    def comparison(self) -> Getter:
        left = self.operand()
        token = self.peek()
        if token and token[1] in ("==", "!=", ">=", "<=", ">", "<"):
            op = self.take()[1]
            right = self.operand()
            return lambda r: _compare(op, left(r), right(r))
        return lambda r: bool(left(r))

    def operand(self) -> Getter:
        kind, value = self.take()
        if value == "(":
            self.enter()
            inner = self.disjunction()
            self.take(")")
            self.depth -= 1
            return inner
        if kind == "string":
            text = value[1:-1].replace('\\"', '"')
            return lambda r: text
        if kind == "number":
            number = float(value)
            if not math.isfinite(number):
                raise unreadable(f"number out of range: {value[:20]}…")
            return lambda r: number
        if kind != "name":
            raise unreadable(f"unexpected {value!r}")
        lowered = value.lower()
        if lowered in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[lowered]
            return lambda r: constant
        if lowered in ("guid", "datetime") and self.peek() == ("op", "("):
            return self.constructor(lowered)
        return self.member(value)

    def constructor(self, name: str) -> Getter:
        args = self.arguments()
        if name == "guid":
            if len(args) != 1 or not isinstance(args[0], str):
                raise unreadable("Guid() takes one string")
            guid = args[0]
            return lambda r: guid
        try:
            # DateTime(y, m, d[, h, min, s]): mypy cannot count the arguments, datetime() does.
            moment = datetime(*(int(a) for a in args), tzinfo=UTC)  # type: ignore[misc]
        except (TypeError, ValueError, OverflowError) as error:
            raise unreadable(f"bad DateTime(): {error}") from error
        return lambda r: moment

    def arguments(self) -> list[Any]:
        self.take("(")
        args: list[Any] = []
        while self.peek() and self.peek()[1] != ")":
            args.append(self.operand()({}))
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return args

    def member(self, first: str) -> Getter:
        path = [first]
        getter: Getter | None = None
        calls = 0
        while self.peek() == ("op", "."):
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise unreadable(f"expected a name after '.', not {name!r}")
            if self.peek() == ("op", "("):
                calls += 1
                if calls > MAX_CHAIN:
                    raise unreadable(f"more than {MAX_CHAIN} methods chained")
                base = getter or self.field(".".join(path))
                getter = _method(name, base, self.arguments())
            elif getter is None:
                path.append(name)
            else:
                raise unreadable("property access after a method call")
        return getter or self.field(".".join(path))


def _method(name: str, base: Getter, args: list[Any]) -> Getter:
    """A string method call, its arguments checked now and its subject when it runs."""
    arity, method = _METHODS.get(name.lower(), (-1, None))
    if method is None:
        raise unreadable(f"unsupported method {name}")
    if len(args) != arity or not all(isinstance(a, str) for a in args):
        raise unreadable(f"{name}() takes {arity} string argument(s)")

    def call(record: Record) -> Any:
        subject = base(record)
        if subject is None:
            subject = ""
        if not isinstance(subject, str):
            raise unreadable(f"{name}() needs text, not {type(subject).__name__}")
        return method(subject, *args)

    return call


def compile_where(text: str, field: Callable[[str], Getter]) -> Callable[[Record], bool]:
    """Compile a `where` expression; `field` turns a dotted name into a value getter.

    `field` may raise QueryError (an unknown property); running the predicate raises
    QueryError, never anything else, when a record's values do not suit the expression.
    """
    expr = _Parser(text, field).parse()

    def match(record: Record) -> bool:
        try:
            return bool(expr(record))
        except QueryError:
            raise
        except (ArithmeticError, TypeError, ValueError, OSError, RecursionError) as error:
            raise unreadable(f"cannot be evaluated: {error}") from error

    return match


def sort_records(records: list[Record], order: str, field: Callable[[str], Getter]) -> None:
    """Sort in place by an `order` clause such as `Name ASC, UpdatedDateUTC DESC`."""
    if len(order) > MAX_LENGTH:
        raise unreadable(f"order longer than {MAX_LENGTH} characters")
    clauses = [c.split() for c in order.split(",") if c.strip()]
    if len(clauses) > MAX_ORDER_CLAUSES:
        raise unreadable(f"more than {MAX_ORDER_CLAUSES} order clauses")
    for clause in reversed(clauses):  # stable sorts applied last-key-first
        if len(clause) not in (1, 2) or (
            len(clause) == 2 and clause[1].upper() not in ("ASC", "DESC")
        ):
            raise unreadable(f"bad order clause {' '.join(clause)!r}")
        getter = field(clause[0])
        descending = len(clause) == 2 and clause[1].upper() == "DESC"

        def key(record: Record, getter: Getter = getter) -> tuple[bool, Any]:
            value = getter(record)
            return (value is None, _fold(value) if value is not None else "")

        try:
            records.sort(key=key, reverse=descending)
        except TypeError as error:  # values of kinds that do not compare (lists, mixed)
            raise unreadable(f"cannot order by {clause[0]}") from error


def compared_to(text: str, name: str) -> set[str]:
    """The string values a `where` tests the field `name` for equality with (upper-cased).

    `ContactStatus=="ARCHIVED" OR Name=="x"` gives {"ARCHIVED"}; the field name inside a
    string (`Name=="ContactStatus"`), a method call on it or another field gives nothing.
    An expression that cannot be read gives nothing (the query answers 400 anyway).
    """
    try:
        tokens = _tokens(text)
    except QueryError:
        return set()
    values = set()
    wanted = ("name", name.casefold())

    def is_field(i: int) -> bool:
        if not 0 <= i < len(tokens) or (tokens[i][0], tokens[i][1].casefold()) != wanted:
            return False
        before = tokens[i - 1] if i > 0 else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        return before != ("op", ".") and after not in (("op", "."), ("op", "("))

    def is_equals(i: int) -> bool:
        return 0 <= i < len(tokens) and tokens[i] == ("op", "==")

    for i, (kind, value) in enumerate(tokens):
        if kind != "string":
            continue
        literal = value[1:-1].replace('\\"', '"').upper()
        if (is_equals(i - 1) and is_field(i - 2)) or (is_equals(i + 1) and is_field(i + 2)):
            values.add(literal)
    return values
