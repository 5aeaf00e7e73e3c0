import numpy as np
import pandas as pd

from features.catalogue import FeatureSpec, Kind
from models.feature_encoding import FeatureEncoder

SPECS = [
    FeatureSpec("state", "", "a", Kind.CATEGORICAL),
    FeatureSpec("violations_ever", "", "h", monotone=1),
]


def test_levels_are_frozen_at_training_and_unseen_levels_become_missing():
    train = pd.DataFrame({"state": ["09", "14", "14"], "violations_ever": [0, 1, 2]})
    encoder = FeatureEncoder.fit(train, SPECS)
    later = encoder.transform(
        pd.DataFrame({"state": ["14", "33", None], "violations_ever": [1, 2, 3]})
    )
    assert list(later["state"].cat.categories) == ["09", "14"]
    assert later["state"].iloc[0] == "14"
    assert later["state"].isna().tolist() == [False, True, True]
    assert later.columns.tolist() == ["violations_ever", "state"]
    assert encoder.monotone_vector() == [1, 0]
    assert later["violations_ever"].dtype == np.float64
