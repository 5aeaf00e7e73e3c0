"""`calle bench`: every stage of the product timed at several sizes, against baselines.

Each stage runs in its own process (:mod:`calle.bench.stage_process`) so its peak memory is
its own; :mod:`calle.bench.stage_worker` runs the stages that are not `calle` commands;
:mod:`calle.bench.growth` fits how each stage's time grows; :mod:`calle.bench.national`
ties them together and renders the table and the plot.
"""
