"""Looking at a sweep's results: the HTML report, Sobol sensitivity, re-runs and recipe export.

`build.write_report` writes the report; `rerun` trains chosen samples again with fresh seeds;
`export` prints a sample's configuration as a recipe file.
"""
