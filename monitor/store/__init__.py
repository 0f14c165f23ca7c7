"""Everything kept in PostgreSQL, behind one connection (``database``): the tables and
their version (``schema``), the metrics store every engine writes to (``metrics``), runs
and results (``results``), the user-agent table with its classifier
(``user_agents``, ``devices``), and what intraday runs keep (``intraday``: slot counts,
runs, incidents).

May import: the foundation (settings, errors, outcome, project) only."""
