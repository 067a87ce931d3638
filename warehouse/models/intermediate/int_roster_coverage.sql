-- What the loaded roster covers: its first snapshot (before it the warehouse has seen
-- nothing) and its latest (as_of_date, on which every "open", "current" or "still" is
-- measured). The dates in the live loaded roster files' names: a snapshot whose every row
-- was quarantined still says the HRIS exported that day.
SELECT
    MIN(file_date) AS first_snapshot_date,
    MAX(file_date) AS as_of_date
FROM etl_batch
WHERE source = 'roster' AND status = 'loaded' AND superseded_by IS NULL
