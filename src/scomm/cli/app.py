"""The scomm command line: one Typer app, assembled here from each noun's commands."""

from __future__ import annotations

import typer

from scomm.cli.agencies import agencies_app
from scomm.cli.audit import audit_app
from scomm.cli.bench import bench_app
from scomm.cli.compare import compare
from scomm.cli.db import db_app
from scomm.cli.errors import ErrorHandlingGroup
from scomm.cli.foia import foia_app
from scomm.cli.keys import keys_app
from scomm.cli.nist import nist_app
from scomm.cli.ops import ops_app
from scomm.cli.report import report
from scomm.cli.serve import serve
from scomm.cli.simulate import demo, simulate
from scomm.cli.stats import stats_app
from scomm.cli.switches import switches_app
from scomm.cli.synth import synth_app
from scomm.cli.template import template_app
from scomm.cli.worker import worker

app = typer.Typer(
    cls=ErrorHandlingGroup,
    help="scomm: the Secure Communities flow, open and auditable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# The product: the database, its audit log, the statistics, and what operators change.
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.command("report")(report)
app.add_typer(stats_app, name="stats")
app.add_typer(foia_app, name="foia")
app.add_typer(switches_app, name="switches")
app.add_typer(ops_app, name="ops")
app.add_typer(agencies_app, name="agencies")
app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
app.command("worker")(worker)
# For the people who exchange the transaction files.
app.add_typer(nist_app, name="nist")
app.add_typer(template_app, name="template")
app.command("compare")(compare)
# The simulator on top of it: synthetic worlds run through the flow, and the benchmarks.
app.command("demo")(demo)
app.command("simulate")(simulate)
app.add_typer(synth_app, name="synth")
app.add_typer(bench_app, name="bench", help="Benchmarks of the fingerprint engine.")
