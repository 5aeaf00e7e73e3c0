from pathlib import Path

import pytest

from calle.config_files import ConfigError
from training.config import TrainConfig, load_config, parse_config

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "train.toml"


def test_the_shipped_example_is_valid_and_equals_the_defaults():
    assert load_config(EXAMPLE) == TrainConfig()


def test_yaml_works_too(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("temporal:\n  horizon_days: 180\n  folds: 2\ncapacities: [0.05, 50]\n")
    config = load_config(path)
    assert config.temporal.horizon_days == 180 and config.capacities == [0.05, 50]


@pytest.mark.parametrize(
    "data, field",
    [
        ({"temporal": {"horizon_days": 0}}, "temporal.horizon_days"),
        ({"temporal": {"update_every": "yearly"}}, "temporal.update_every"),
        ({"temporal": {"horizon": 90}}, "temporal.horizon"),  # a typo is not ignored
        ({"model": {"learning_rate": 3}}, "model.learning_rate"),
        ({"model": {"numeric_levels": 1}}, "model.numeric_levels"),
        ({"capacities": [0.05, 0]}, "capacities"),
        ({"seeed": 1}, "seeed"),
        ({"selection": {"weighting": "ipw"}}, "selection.weighting"),
        ({"selection": {"propensity": False, "weighting": "inverse_propensity"}}, "selection"),
        ({"fairness": {"band": [1.1, 1.5]}}, "fairness.band"),
        ({"fairness": {"gated_metrics": ["recall"]}}, "fairness.gated_metrics"),
        ({"fairness": {"capacity": 0}}, "fairness.capacity"),
    ],
)
def test_an_invalid_config_is_refused_with_the_field_named(data, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        parse_config(data)


def test_a_file_that_is_not_toml_or_yaml_is_refused(tmp_path: Path):
    for name, text in (("c.json", "{}"), ("c.toml", "horizon_days = [")):
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(ConfigError, match=name):
            load_config(path)
