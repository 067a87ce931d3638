-- The role spells whose start the data saw, with how long each has been observable on
-- as_of_date: a spell started before the first roster snapshot is left out (only those
-- still in the job then could be seen, warehouse.md v3). Read by the early-exit and
-- readiness marts.
SELECT
    s.*,
    c.as_of_date - s.started_on AS days_observable
FROM fct_role_spell AS s
CROSS JOIN int_roster_coverage AS c
WHERE s.started_on >= c.first_snapshot_date
