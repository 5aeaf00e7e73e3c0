import pytest
from typer.main import get_command
from typer.testing import CliRunner

from calle.cli import app

runner = CliRunner()
SUBCOMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def test_help_lists_every_subcommand():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert name in result.output
    assert {"world", "import"} <= set(SUBCOMMANDS)


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(name: str):
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and "--help" in result.output


def test_bad_option_is_refused_with_the_option_named():
    result = runner.invoke(app, ["world", "--out", "x", "--format", "xlsx"])
    assert result.exit_code == 2
    assert "--format" in result.output
