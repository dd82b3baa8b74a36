"""`LocalBroker`: one KRaft broker (broker and controller in one JVM) on this machine, alone or
as one node of a local cluster (`ClusterMember`, see `dua.kafka.cluster`).

Its files live under one home directory (`<state_dir>/kafka`): the rendered
`server.properties`, the data in `data/`, the log `server.log`, and `broker.json`, which lets a
later `dua` process find, check and stop the broker. A secured broker (`security=`) also keeps
its SCRAM passwords there, in `credentials.json` (mode 0600, like `server.properties`).
"""

from __future__ import annotations

import base64
import re
import shutil
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from dua.kafka.config import BrokerConfig, BrokerSecurity, ClusterMember, render_server_properties
from dua.kafka.credentials import Credentials, ensure_credentials, read_credentials, write_private
from dua.kafka.errors import BrokerError
from dua.kafka.jars import KafkaJars
from dua.kafka.locator import asset_dir
from dua.kafka.ports import free_ports, port_in_use
from dua.kafka.process import is_alive, signal_group, wait_gone
from dua.kafka.readiness import accepts, answers
from dua.kafka.record import BrokerRecord, read_record, write_record
from dua.kafka.scram_users import store_scram_users
from dua.kafka.toolchain import require_tool

FORMAT_TIMEOUT_S = 120.0
KILL_WAIT_S = 10.0
_HEAP = re.compile(r"^\d+[kKmMgG]?$")


class LocalBroker:
    """Starts, checks and stops the broker whose files live under `home`.

    With `security`, `start()` opens a SASL_PLAINTEXT (SCRAM) client listener, turns on the
    StandardAuthorizer with no access where no ACL grants it, and creates every user's
    credentials; granting ACLs is `dua.kafka.acls`' job.
    """

    __slots__ = ("_launched", "_process", "home", "member", "security")

    def __init__(
        self,
        home: Path,
        *,
        security: BrokerSecurity | None = None,
        member: ClusterMember | None = None,
    ) -> None:
        if security is not None and member is not None:
            raise BrokerError("a local cluster runs without security (plaintext only)")
        self.home = home.resolve()
        self.security = security
        self.member = member
        self._process: subprocess.Popen[bytes] | None = None
        self._launched: tuple[BrokerConfig, Credentials | None] | None = None

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties(self) -> Path:
        return self.home / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    @property
    def record_path(self) -> Path:
        return self.home / "broker.json"

    @property
    def credentials_path(self) -> Path:
        return self.home / "credentials.json"

    def client_config(self, user: str | None = None) -> dict[str, str]:
        """librdkafka settings to log in to this broker as `user` (default: its admin).

        Empty for a plaintext broker; for a secured one, the user's SASL settings with the
        password stored under `home` (which the caller must never print or log).
        """
        record = read_record(self.record_path)
        secured = record.secured if record is not None else self.security is not None
        if not secured:
            return {}
        credentials = read_credentials(self.credentials_path)
        if credentials is None:
            raise BrokerError(f"the secured broker's credentials {self.credentials_path} are gone")
        return credentials.client_config(user or (self.security or BrokerSecurity()).admin)

    def status(self) -> BrokerRecord | None:
        """The record of the running broker, or None when none runs."""
        record = read_record(self.record_path)
        if record is None or not is_alive(record.pid, str(self.properties)):
            return None
        return record

    def start(
        self,
        jars: KafkaJars,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        controller_port: int = 0,
        heap: str = "512m",
        timeout: float = 120.0,
        group_join_delay_ms: int = 0,
    ) -> BrokerRecord:
        """Format storage if new, launch the JVM detached, and return once the broker answers.

        A port of 0 means a free one. `group_join_delay_ms`: Kafka's
        `group.initial.rebalance.delay.ms` (its default is 3000; 0 starts new groups at
        once). The broker keeps running after this process exits; `stop()` (here or in a
        later process) ends it.
        """
        record = self.launch(
            jars,
            host=host,
            port=port,
            controller_port=controller_port,
            heap=heap,
            group_join_delay_ms=group_join_delay_ms,
        )
        self.wait_ready(timeout)
        return record

    def launch(
        self,
        jars: KafkaJars,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        controller_port: int = 0,
        heap: str = "512m",
        group_join_delay_ms: int = 0,
    ) -> BrokerRecord:
        """`start()` without the wait: the nodes of a cluster answer only once a majority of
        its controllers runs, so all are launched before any is waited for (`wait_ready`)."""
        running = self.status()
        if running is not None:
            raise BrokerError(f"a broker already runs at {running.bootstrap} (pid {running.pid})")
        if not _HEAP.match(heap):
            raise BrokerError(f"heap {heap!r} is not a JVM size like 512m")
        credentials = self._credentials()
        java = require_tool("java")
        config = self._config(host, port, controller_port, credentials, group_join_delay_ms)
        self.home.mkdir(parents=True, exist_ok=True)
        # Private: a secured broker's file holds the admin password.
        write_private(self.properties, render_server_properties(config))
        self._format(java, jars, credentials)
        process = self._spawn(java, jars, heap)
        record = BrokerRecord(
            pid=process.pid,
            bootstrap=config.bootstrap,
            version=jars.version,
            log_path=self.log_path,
            properties=self.properties,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            security_protocol=config.listener,
        )
        write_record(self.record_path, record)
        self._launched = (config, credentials)
        return record

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until the broker `launch()` started answers (stopped and raising if it does not)."""
        if self._launched is None or self._process is None:
            raise BrokerError("wait_ready() needs a broker launched by this object")
        config, credentials = self._launched
        try:
            admin = self.client_config()
            self._wait_ready(self._process, config, timeout, admin)
            if self.security is not None and credentials is not None:
                store_scram_users(config.bootstrap, admin, credentials, self.security.principals)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 30.0) -> BrokerRecord | None:
        """SIGTERM the broker, SIGKILL it after `timeout` s; return its record, None if none ran."""
        record = read_record(self.record_path)
        if record is None:
            return None
        if self._process is not None:
            self._process.poll()  # reap our own child if it already exited
        marker = str(self.properties)
        was_running = is_alive(record.pid, marker)
        if was_running:
            signal_group(record.pid, signal.SIGTERM)
            if not self._wait_exit(record.pid, marker, timeout):
                signal_group(record.pid, signal.SIGKILL)
                if not self._wait_exit(record.pid, marker, KILL_WAIT_S):
                    raise BrokerError(f"broker pid {record.pid} is still alive after SIGKILL")
        self.record_path.unlink(missing_ok=True)
        self._process = None
        self._launched = None
        return record if was_running else None

    def purge(self) -> None:
        """Delete the broker's data (topics, offsets, users); refused while it runs."""
        running = self.status()
        if running is not None:
            raise BrokerError(f"stop the broker (pid {running.pid}) before deleting its data")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        # The passwords belong to the users stored in that data: a new broker gets new ones.
        # server.properties, rewritten at every start, would still hold the old admin's.
        self.credentials_path.unlink(missing_ok=True)
        self.properties.unlink(missing_ok=True)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines the broker logged (its log file, else what the JVM printed)."""
        for path in (self.log_path, self.home / "stdout.log"):
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if text.strip():
                return "\n".join(text.strip().splitlines()[-lines:])
        return "(the broker logged nothing)"

    def _credentials(self) -> Credentials | None:
        if self.security is None:
            return None
        formatted = (self.data_dir / "meta.properties").is_file()
        if formatted and not self.credentials_path.is_file():
            # Its storage has no admin credentials: nobody could log in to administer it.
            raise BrokerError(
                f"the broker data in {self.data_dir} was created without security; "
                "delete it (`dua kafka down --purge`) to start a secured broker there"
            )
        return ensure_credentials(
            self.credentials_path, self.security.users, self.security.mechanism
        )

    def _config(
        self,
        host: str,
        port: int,
        controller_port: int,
        credentials: Credentials | None,
        group_join_delay_ms: int,
    ) -> BrokerConfig:
        for fixed in (port, controller_port):
            if fixed and port_in_use(host, fixed):
                raise BrokerError(f"port {fixed} on {host} is already in use; choose another")
        spare = iter(free_ports(2, host))
        security, admin_password = None, None
        if self.security is not None and credentials is not None:
            security, admin_password = self.security, credentials.password(self.security.admin)
        return BrokerConfig(
            host=host,
            broker_port=port or next(spare),
            controller_port=controller_port or next(spare),
            log_dir=self.data_dir,
            node_id=self.member.node_id if self.member is not None else 1,
            security=security,
            admin_password=admin_password,
            group_join_delay_ms=group_join_delay_ms,
            member=self.member,
        )

    def _jvm(self, java: str, jars: KafkaJars, log_file: Path) -> list[str]:
        return [
            java,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={asset_dir() / 'log4j2.properties'}",
            f"-Dkafka.log.file={log_file}",
            "-cp",
            jars.classpath,
        ]

    def _format(self, java: str, jars: KafkaJars, credentials: Credentials | None) -> None:
        # Formatting again would fail (and a new cluster id would orphan the data): keep it.
        if (self.data_dir / "meta.properties").is_file():
            return
        arguments = [
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            self.member.cluster_id if self.member is not None else cluster_id(),
            "--config",
            str(self.properties),
            "--ignore-formatted",
        ]
        if self.security is not None and credentials is not None:
            # The admin exists before the broker serves anyone: it creates the other users.
            admin = self.security.admin
            scram = f"name={admin},password={credentials.password(admin)}"
            arguments += ["--add-scram", f"{credentials.mechanism}=[{scram}]"]
        # The java launcher reads the main class and its arguments from this file, so the
        # password never shows on a command line (`ps`, /proc/<pid>/cmdline).
        argfile = self.home / "format.args"
        write_private(argfile, "\n".join(_java_quoted(argument) for argument in arguments))
        command = [*self._jvm(java, jars, self.home / "format.log"), f"@{argfile}"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise BrokerError(
                f"formatting {self.data_dir} took over {FORMAT_TIMEOUT_S} s"
            ) from None
        finally:
            argfile.unlink(missing_ok=True)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise BrokerError(f"kafka storage format failed for {self.data_dir}:\n{tail}")

    def _spawn(self, java: str, jars: KafkaJars, heap: str) -> subprocess.Popen[bytes]:
        command = [
            java,
            f"-Xmx{heap}",
            *self._jvm(java, jars, self.log_path)[1:],
            "kafka.Kafka",
            str(self.properties),
        ]
        with (self.home / "stdout.log").open("ab") as output:
            # Own session: the broker outlives `dua kafka up` and ignores the terminal's ^C.
            self._process = subprocess.Popen(
                command,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self._process

    def _wait_ready(
        self,
        process: subprocess.Popen[bytes],
        config: BrokerConfig,
        timeout: float,
        client: dict[str, str],
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = process.poll()
            if status is not None:
                raise BrokerError(
                    f"the broker exited with status {status} while starting "
                    f"(log {self.log_path}); its last words:\n{self.log_tail()}"
                )
            if accepts(config.host, config.broker_port) and answers(config.bootstrap, client):
                return
            time.sleep(0.2)
        raise BrokerError(
            f"the broker did not answer at {config.bootstrap} within {timeout:.0f} s "
            f"(log {self.log_path}); its last words:\n{self.log_tail()}"
        )

    def _wait_exit(self, pid: int, marker: str, timeout: float) -> bool:
        # Our own child must be reaped (wait), else it lingers as a zombie until we exit.
        if self._process is not None and self._process.pid == pid:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        return wait_gone(pid, marker, timeout)


def cluster_id() -> str:
    """A random id in Kafka's own form: a UUID as 22 characters of unpadded URL-safe base64."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # Kafka rejects ids starting with "-" (they read as command-line flags).
        if not text.startswith("-"):
            return text


def _java_quoted(argument: str) -> str:
    """One argument of a java launcher @-file: quoted, with backslashes and quotes escaped."""
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'
