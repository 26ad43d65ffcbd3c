import pytest

from hyperlax.plan import fingerprint, make_plan, members

ARCH = "net.sizes"


def samples(archs):
    return [{"lr": 0.1 * i, ARCH: a} for i, a in enumerate(archs)]


def test_ungrouped_slices_in_sample_order_and_splits_structures():
    plan = make_plan(samples(["A", "B", "A", "A", "B"]), [ARCH], [], hparam_batch_size=2)
    assert [b.name for b in plan] == ["batch_00000", "batch_00001", "batch_00002"]
    assert [b.sample_ids for b in plan] == [(0, 1), (2, 3), (4,)]
    assert [[u.sample_ids for u in b.units] for b in plan] == [[(0,), (1,)], [(2, 3)], [(4,)]]
    # lanes = min(batch size, samples of that structure): every unit of a structure shares a shape
    assert {u.structure: u.lanes for b in plan for u in b.units} == {'{"net.sizes": "A"}': 2, '{"net.sizes": "B"}': 2}


def test_grouped_batches_are_homogeneous_and_padded_to_one_shape():
    plan = make_plan(samples(["A", "B", "A", "A", "B", "A"]), [ARCH], [], hparam_batch_size=3, group_by_structure=True)
    assert [b.sample_ids for b in plan] == [(0, 2, 3), (5,), (1, 4)]
    assert all(len(b.units) == 1 for b in plan)
    assert [b.units[0].lanes for b in plan] == [3, 3, 2]


def test_sequential_gives_one_run_per_sample():
    plan = make_plan(samples(["A", "B", "A"]), [ARCH], [], hparam_batch_size=16, sequential=True)
    assert [b.name for b in plan] == ["run_0000", "run_0001", "run_0002"]
    assert all(b.units[0].lanes == 1 for b in plan)


def test_plan_is_deterministic_and_fingerprint_tracks_changes():
    s = samples(["A", "B", "A", "B"])
    plan = make_plan(s, [ARCH], [], 2)
    assert plan == make_plan(s, [ARCH], [], 2)
    base = fingerprint(s, plan, {"seed": 0})
    assert base == fingerprint(s, make_plan(s, [ARCH], [], 2), {"seed": 0})
    assert base != fingerprint(s, make_plan(s, [ARCH], [], 3), {"seed": 0})
    assert base != fingerprint(s, plan, {"seed": 1})
    assert base != fingerprint(samples(["A", "B", "A", "A"]), plan, {"seed": 0})


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="hparam_batch_size"):
        make_plan(samples(["A"]), [ARCH], [], 0)


def test_paddable_values_share_a_unit_unless_grouping_or_sequential():
    mixed = [{**s, "envs": n} for s, n in zip(samples(["A", "A", "B", "A"]), [4, 8, 4, 16])]
    plan = make_plan(mixed, [ARCH], ["envs"], hparam_batch_size=4)
    assert [[u.sample_ids for u in b.units] for b in plan] == [[(0, 1, 3), (2,)]]
    grouped = make_plan(mixed, [ARCH], ["envs"], hparam_batch_size=4, group_by_structure=True)
    assert [b.sample_ids for b in grouped] == [(0,), (1,), (2,), (3,)]
    assert members(plan) == {'{"net.sizes": "A"}': [0, 1, 3], '{"net.sizes": "B"}': [2]}


def ppo_samples(sizes):
    names = ("num_envs", "rollout_length", "update_epochs", "num_minibatches")
    return [{f"algorithm.hyperparam.{n}": v for n, v in zip(names, values)} for values in sizes]


def test_the_padding_cost_model_pads_close_sizes_together_and_splits_far_ones():
    from hyperlax import padding
    from hyperlax.recipes import load_recipe
    from hyperlax.run.loop import Settings, prepare

    recipe = load_recipe("ppo_mlp", "gymnax.cartpole")
    close = ppo_samples([(8, 128, 4, 4), (8, 128, 4, 2), (8, 128, 4, 4)])
    far = ppo_samples([(4, 32, 1, 1), (4, 32, 1, 1), (64, 256, 8, 8)])
    settings = Settings(hparam_batch_size=8, total_timesteps=100_000)
    together = prepare(recipe, close, settings, {})
    assert [len(b.units) for b in together.plan] == [1] and together.padding[0]["units"] == 1
    split = prepare(recipe, far, settings, {})
    (summary,) = split.padding
    assert summary["units"] == 2 and summary["estimated_s_chosen"] < summary["estimated_s_one_unit"]
    assert sorted(u.sample_ids for b in split.plan for u in b.units) == [(0, 1), (2,)]
    for unit in (u for b in split.plan for u in b.units):  # each padded unit compiles with its own sizes
        assert split.extents[unit.structure]["num_envs"] == (64 if unit.sample_ids == (2,) else 4)
    assert summary["costs_of"] == "cpu"  # this machine's platform
    seconds = padding.seconds(recipe.algorithm, [{**recipe.base_config}], padding.costs())
    assert seconds > padding.costs().compile_s
    one = prepare(recipe, far, Settings(hparam_batch_size=8, total_timesteps=100_000, padding="together"), {})
    assert [len(b.units) for b in one.plan] == [1] and one.padding == ()


def test_a_gpu_s_costs_pad_together_what_a_cpu_s_split():
    """Lanes cost a GPU little beside its compilations, so the far sizes a CPU groups apart share one unit there."""
    from hyperlax import padding
    from hyperlax.recipes import load_recipe
    from hyperlax.run.executor import config_for

    recipe = load_recipe("ppo_mlp", "gymnax.cartpole")
    base = {**recipe.base_config, "training": {**recipe.base_config["training"], "total_timesteps": 100_000}}
    far = [config_for(base, s) for s in ppo_samples([(4, 32, 1, 1), (4, 32, 1, 1), (64, 256, 8, 8)])]
    on_cpu, on_gpu = (padding.split(recipe.algorithm, far, padding.costs(p)) for p in ("cpu", "gpu"))
    assert on_cpu.cluster == [1, 1, 0] and on_gpu.cluster == [0, 0, 0]
    assert on_gpu.summary("{}")["costs_of"] == "gpu" and padding.costs("tpu") == padding.costs("gpu")
