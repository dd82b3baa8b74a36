"""A second lock on the read-only endpoint, in front of ClickHouse's own `readonly=1`.

`readonly=1` refuses every write, DDL and settings change, but not `SYSTEM` or `KILL`
statements, and chDB runs several `;`-separated statements in one call. So the endpoint also
takes exactly one statement, and only one that starts like a read.
"""

from __future__ import annotations

from dua_sink.errors import QueryRefused

READ_KEYWORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"})


def single_read_statement(sql: str) -> str:
    """`sql` itself when it is one read statement, else `QueryRefused` saying why not."""
    code = _code_only(sql)
    body = code.strip().rstrip(";").strip()
    if not body:
        raise QueryRefused("the query is empty")
    if ";" in body:
        raise QueryRefused("send one statement at a time (found ';' between statements)")
    keyword = body.split(None, 1)[0].upper().lstrip("(")
    if keyword not in READ_KEYWORDS:
        raise QueryRefused(
            f"read-only endpoint: {keyword} statements are refused; only "
            + ", ".join(sorted(READ_KEYWORDS))
        )
    return sql.strip()


def _code_only(sql: str) -> str:
    """`sql` with string literals, quoted identifiers and comments blanked out."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and sql[end] != ch:
                end += 2 if sql[end] == "\\" else 1
            out.append(" ")
            i = end + 1
        elif sql.startswith("--", i) or ch == "#":
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            out.append(" ")
            i = n if end < 0 else end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)
