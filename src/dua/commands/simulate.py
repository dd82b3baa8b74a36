"""`dua simulate`: realistic traffic from the seed's services through the SDK."""

from __future__ import annotations

import click

from dua.kafka import bootstrap_servers, client_config
from dua.settings import load_settings
from dua.simulation import ClientFactory, SimulationOptions, SimulationResult, Simulator
from dua_schemas import ConfigError


def _show(result: SimulationResult) -> None:
    click.echo(
        f"\rsent {result.emitted:>8,} accesses, {result.consents:,} consent changes; "
        f"delivered {result.delivered:,}, spooled {result.spooled:,}",
        nl=False,
        err=True,
    )


@click.command()
@click.option("--rate", type=float, default=200.0, show_default=True, help="Accesses per second.")
@click.option("--duration", type=float, default=10.0, show_default=True, help="Seconds to run.")
@click.option(
    "--violation-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Share of accesses that break a rule (cycling through every stateless rule).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the traffic plan.")
@click.option("--run-id", default="", help="Stamped on each event as attribute sim_run.")
def simulate(rate: float, duration: float, violation_rate: float, seed: int, run_id: str) -> None:
    """Send traffic from the services of the seed page (matchmaking, salons, cars, travel,
    restaurants, jobs, payroll) through the SDK to the raw topic, with a share of accesses
    planted to break each rule, consent changes, and re-identification sequences.

    Needs DUA_SUBJECT_KEY (the pseudonym key) and a broker (DUA_KAFKA_BOOTSTRAP or
    `dua kafka up`)."""
    settings = load_settings()
    if settings.subject_key is None:
        raise ConfigError("DUA_SUBJECT_KEY is required: the SDK pseudonymizes subject ids with it")
    try:
        options = SimulationOptions(rate, duration, violation_rate, seed, run_id)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    factory = ClientFactory(
        bootstrap=bootstrap_servers(settings),
        subject_key=settings.subject_key.get_secret_value(),
        topic_raw=settings.topic_raw,
        topic_consent=settings.topic_consent,
        spool_root=(settings.state_dir / "spool").resolve(),
        kafka_options=client_config(settings, principal="producer"),
    )
    result = Simulator(factory, options).run(progress=_show)
    click.echo("", err=True)
    click.echo(f"sent {result.emitted:,} accesses in {result.elapsed_s:.1f} s")
    for rule, count in sorted(result.planted.items()):
        click.echo(f"  planted {rule}: {count:,}")
