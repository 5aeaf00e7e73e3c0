from calle.cli_reference import cli_reference
from calle.readme_sections import (
    CLI_REFERENCE,
    FEATURE_CATALOGUE,
    README,
    feature_catalogue,
    render,
)


def test_generated_readme_sections_match_the_code():
    text = README.read_text()
    assert render(text) == text, "run `python -m calle.readme_sections` to update the README"


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    text = README.read_text()
    assert "./scripts/demo" in text and "./scripts/test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert ci.strip().splitlines()[-1] == "./scripts/test"


def test_the_feature_catalogue_document_matches_the_code():
    assert FEATURE_CATALOGUE.read_text() == feature_catalogue(), (
        "run `python -m calle.readme_sections` to update docs/feature-catalogue.md"
    )


def test_the_cli_reference_matches_the_command():
    text = CLI_REFERENCE.read_text()
    assert text == cli_reference(), "run `python -m calle.readme_sections` to update it"
    for command in ("world", "import", "train", "promote", "score", "plan", "serve", "bench"):
        assert f"## `calle {command}`" in text
    assert "## `calle keys create`" in text and "`--role`" in text
