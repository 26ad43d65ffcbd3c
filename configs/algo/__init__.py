"""Algorithm-and-network recipes: get_base_config() and get_base_hyperparam_distributions()."""
