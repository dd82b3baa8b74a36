"""deploy/clickhouse stays consistent: the compliance user reads, the sink's user only inserts,
the XML and SQL variants grant the same, and every table named exists in the migrations."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dua_sink import available_migrations
from dua_sink.sql_text import split_statements

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "clickhouse"
_GRANT = re.compile(r"^GRANT (SELECT|INSERT)(\([\w, ]+\))? ON ([\w.*]+)(?: TO (\w+))?$")
# The column of the audit tables a replay reads (`AuditStore._marks`).
REPLAY_CHECK = {
    f"dua.{table}": {"sink_write"} for table in ("access_events", "violations", "rejected_events")
}
Grant = tuple[str, str, frozenset[str]]  # privilege, target, columns (none: the whole table)


def _grant(match: re.Match[str]) -> Grant:
    columns = (match.group(2) or "").strip("()")
    return match.group(1), match.group(3), frozenset(c.strip() for c in columns.split(",") if c)


def _xml_grants() -> dict[str, set[Grant]]:
    root = ET.parse(DEPLOY / "users.d" / "dua-users.xml").getroot()
    grants: dict[str, set[Grant]] = {}
    users = root.find("users")
    assert users is not None
    for user in users:
        for query in user.iter("query"):
            match = _GRANT.match((query.text or "").strip())
            assert match, query.text
            grants.setdefault(user.tag, set()).add(_grant(match))
    return grants


def _sql_grants() -> dict[str, set[Grant]]:
    grants: dict[str, set[Grant]] = {}
    for statement in split_statements((DEPLOY / "access.sql").read_text(encoding="utf-8")):
        match = _GRANT.match(statement)
        if match:
            grants.setdefault(str(match.group(4)), set()).add(_grant(match))
    return grants


def test_compliance_reads_only_and_is_readonly() -> None:
    """The compliance user has SELECT grants only, and a readonly=1 profile."""
    grants = _xml_grants()["dua_compliance"]
    assert {kind for kind, _, _ in grants} == {"SELECT"}
    assert ("SELECT", "dua.*", frozenset()) in grants
    root = ET.parse(DEPLOY / "users.d" / "dua-users.xml").getroot()
    assert root.findtext("profiles/dua_compliance/readonly") == "1"


def test_sink_user_inserts_and_reads_only_its_plan_ledger_and_write_marks() -> None:
    """No SELECT on audit data for the writer: the batch plan, the ledger, and of the audit
    tables only the column saying which write stored a row."""
    grants = _xml_grants()["dua_sink"]
    whole = {target for kind, target, columns in grants if kind == "SELECT" and not columns}
    assert whole == {"dua.sink_batches", "dua.schema_migrations"}
    columns = {target: set(cs) for kind, target, cs in grants if kind == "SELECT" and cs}
    assert columns == REPLAY_CHECK
    inserts = {target for kind, target, _ in grants if kind == "INSERT"}
    assert {"dua.access_events", "dua.violations", "dua.rejected_events"} <= inserts


def test_the_sink_user_may_insert_into_every_materialized_view_s_target() -> None:
    """An insert fires the views on the inserter's privileges: a target the sink's user may not
    insert into would fail every insert into the table the view reads."""
    targets = set()
    for migration in available_migrations():
        targets |= set(
            re.findall(
                r"CREATE MATERIALIZED VIEW IF NOT EXISTS \$\{database\}\.\w+\s+"
                r"TO \$\{database\}\.(\w+)",
                migration.template,
            )
        )
    assert {"access_hourly", "appi_provisions", "datamap_hourly", "volume_hourly"} <= targets
    inserts = {target for kind, target, _ in _xml_grants()["dua_sink"] if kind == "INSERT"}
    assert {f"dua.{table}" for table in targets} <= inserts


def test_xml_users_and_sql_roles_grant_the_same() -> None:
    """Whichever access control a deployment uses, the privileges are the same."""
    xml, sql = _xml_grants(), _sql_grants()
    assert xml["dua_compliance"] == sql["dua_compliance_reader"]
    assert xml["dua_sink"] == sql["dua_sink_writer"]


def test_every_granted_table_is_created_by_the_migrations() -> None:
    """A grant on a table the schema does not have would fail at deployment time."""
    created = set()
    for migration in available_migrations():
        created |= set(
            re.findall(
                r"CREATE (?:TABLE|VIEW) IF NOT EXISTS \$\{database\}\.(\w+)", migration.template
            )
        )
    for grants in _xml_grants().values():
        for _, target, _ in grants:
            database, table = target.split(".")
            assert database == "system" or table == "*" or table in created, target
