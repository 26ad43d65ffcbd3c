import pytest
import tyro

from hyperlax.cli.dispatch import normalize_bool_flags
from hyperlax.cli.sample import SweepHpSamples
from hyperlax.errors import UserError


@pytest.mark.parametrize(
    "argv, sequential",
    [
        (["--sequential"], True),
        (["--sequential", "True"], True),
        (["--sequential", "False"], False),
        (["--sequential", "false"], False),
        (["--sequential=yes"], True),
        (["--sequential", "--num-samples", "3"], True),
        (["--num-samples", "3"], None),
    ],
)
def test_boolean_flags_take_bare_and_explicit_forms(argv, sequential):
    args = tyro.cli(SweepHpSamples, args=normalize_bool_flags(argv))
    assert args.sequential is sequential


def test_a_bad_boolean_value_is_refused():
    with pytest.raises(UserError, match="True or False"):
        normalize_bool_flags(["--sequential=maybe"])
