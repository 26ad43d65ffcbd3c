"""Environment recipes: get_base_config() with the env section and budget overrides."""
