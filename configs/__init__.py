"""Recipe files: configs/algo/<name>.py and configs/env/<name>.py (installed as hyperlax.configs)."""
