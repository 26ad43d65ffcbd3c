"""Environment factory: an env recipe's "env" section -> a gymnax env, its params and its spaces."""

from hyperlax.envs.gymnax_envs import EnvSpec, check_env_config, make_env

__all__ = ["EnvSpec", "check_env_config", "make_env"]
