"""deploy/clickhouse stays consistent: the compliance user reads, the sink's user only inserts,
the XML and SQL variants grant the same, and every table named exists in the migrations."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dua_sink import available_migrations
from dua_sink.sql_text import split_statements

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "clickhouse"
_GRANT = re.compile(r"^GRANT (SELECT|INSERT) ON ([\w.*]+)(?: TO (\w+))?$")


def _xml_grants() -> dict[str, set[tuple[str, str]]]:
    root = ET.parse(DEPLOY / "users.d" / "dua-users.xml").getroot()
    grants: dict[str, set[tuple[str, str]]] = {}
    users = root.find("users")
    assert users is not None
    for user in users:
        for query in user.iter("query"):
            match = _GRANT.match((query.text or "").strip())
            assert match, query.text
            grants.setdefault(user.tag, set()).add((match.group(1), match.group(2)))
    return grants


def _sql_grants() -> dict[str, set[tuple[str, str]]]:
    grants: dict[str, set[tuple[str, str]]] = {}
    for statement in split_statements((DEPLOY / "access.sql").read_text(encoding="utf-8")):
        match = _GRANT.match(statement)
        if match:
            grants.setdefault(str(match.group(3)), set()).add((match.group(1), match.group(2)))
    return grants


def test_compliance_reads_only_and_is_readonly() -> None:
    """The compliance user has SELECT grants only, and a readonly=1 profile."""
    grants = _xml_grants()["dua_compliance"]
    assert {kind for kind, _ in grants} == {"SELECT"}
    assert ("SELECT", "dua.*") in grants
    root = ET.parse(DEPLOY / "users.d" / "dua-users.xml").getroot()
    assert root.findtext("profiles/dua_compliance/readonly") == "1"


def test_sink_user_inserts_and_reads_only_its_plan_and_ledger() -> None:
    """No SELECT on audit data for the writer: only the batch plan and the ledger."""
    grants = _xml_grants()["dua_sink"]
    selects = {target for kind, target in grants if kind == "SELECT"}
    assert selects == {"dua.sink_batches", "dua.schema_migrations"}
    inserts = {target for kind, target in grants if kind == "INSERT"}
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
    inserts = {target for kind, target in _xml_grants()["dua_sink"] if kind == "INSERT"}
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
        for _, target in grants:
            database, table = target.split(".")
            assert database == "system" or table == "*" or table in created, target
