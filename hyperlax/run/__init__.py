"""Running a plan: the batched executor and the sweep loop around it."""
