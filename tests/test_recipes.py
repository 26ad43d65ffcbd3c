import pytest

from hyperlax.recipes import RecipeError, available, load_recipe
from tests.conftest import write_recipe


def test_shipped_recipes_load_by_name_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "ppo_mlp" in available("algo")
    for env in ("gymnax.cartpole", "gymnax.pendulum", "gymnax.acrobot", "gymnax.mountain_car_continuous"):
        recipe = load_recipe("ppo_mlp", env)
        assert recipe.env_name == env and recipe.algo_name == "ppo_mlp"
    space = load_recipe("ppo_mlp", "gymnax.cartpole").distributions
    assert "algorithm.hyperparam.actor_lr" in space
    assert "algorithm.network.actor_network.pre_torso.layer_sizes" in space


def test_a_users_recipe_file_is_loaded_by_path(tmp_path):
    path = write_recipe(tmp_path, "ppo_mlp_wide_search")
    recipe = load_recipe(str(path), "gymnax.cartpole")
    assert recipe.algo_name == "ppo_mlp_wide_search"
    assert recipe.base_config["algorithm"]["hyperparam"]["rollout_length"] == 32


def test_unknown_names_list_the_available_ones():
    with pytest.raises(RecipeError, match="available: .*ppo_mlp"):
        load_recipe("ppo_nope", "gymnax.cartpole")
    with pytest.raises(RecipeError, match="available: .*gymnax.cartpole"):
        load_recipe("ppo_mlp", "gymnax.nope")


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ('"algorithm.hyperparam.actor_lrr": LogUniform(domain=(1e-4, 1e-3)),', "'algorithm.hyperparam.actor_lrr' is not a field"),
        ('"algorithm.hyperparam.clip_eps": Uniform(domain=(0.3, 0.1)),', "'algorithm.hyperparam.clip_eps': domain needs low < high"),
        ('"algorithm.hyperparam.vf_coef": LogUniform(domain=(0.0, 1.0)),', "'algorithm.hyperparam.vf_coef': log-scale domain needs positive"),
        ('"algorithm.network.actor_network.pre_torso.activation": Categorical(values=[]),', "activation': Categorical needs a non-empty"),
    ],
)
def test_bad_search_spaces_fail_at_load_naming_the_key(tmp_path, extra, fragment):
    path = write_recipe(tmp_path, extra=extra)
    with pytest.raises(RecipeError) as err:
        load_recipe(str(path), "gymnax.cartpole")
    assert fragment in str(err.value)
