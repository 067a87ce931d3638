-- What history shows that looks wrong but is kept.
--
-- Absences (warehouse.md v3): an employee missing from a loaded snapshot without a
-- termination, whether they vanish for good or come back later (a gap), is recorded once,
-- with the first snapshot they are missing from, and kept by every later run. An absence
-- explained by a quarantined row of theirs in that snapshot is no absence. The other
-- kinds are recomputed every run.
DELETE FROM etl_anomaly WHERE origin = 'history' AND kind <> 'vanished_without_termination';

INSERT INTO etl_anomaly (run_id, batch_id, kind, employee_key, observed_on, detail, origin)
WITH snapshots AS (
    SELECT DISTINCT file_date AS snapshot_date
    FROM etl_batch
    WHERE source = 'roster' AND status = 'loaded' AND superseded_by IS NULL AND rows_loaded > 0
),
runs AS (
    SELECT
        o.batch_id, o.employee_key, o.employment_status, o.last_seen,
        LEAD(o.snapshot_date) OVER (PARTITION BY o.employee_key ORDER BY o.snapshot_date)
            AS seen_again
    FROM int_employee_observation AS o
),
absences AS (
    SELECT r.batch_id, r.employee_key, MIN(s.snapshot_date) AS missing_from, r.last_seen
    FROM runs AS r
    JOIN snapshots AS s
        ON s.snapshot_date > r.last_seen
        AND (r.seen_again IS NULL OR s.snapshot_date < r.seen_again)
    WHERE r.employment_status <> 'terminated'
      AND NOT EXISTS (
          SELECT 1
          FROM etl_quarantine AS q
          JOIN etl_batch AS b ON b.batch_id = q.batch_id
          WHERE q.employee_key = r.employee_key
            AND b.file_date = s.snapshot_date AND b.source = 'roster'
            AND b.status = 'loaded' AND b.superseded_by IS NULL
      )
    GROUP BY r.batch_id, r.employee_key, r.last_seen
)
SELECT :run_id, a.batch_id, 'vanished_without_termination', a.employee_key, a.missing_from,
       'last seen ' || CAST(a.last_seen AS TEXT) || ' not terminated, absent from the snapshot of '
       || CAST(a.missing_from AS TEXT) || ', last known state kept',
       'history'
FROM absences AS a
WHERE NOT EXISTS (
    SELECT 1
    FROM etl_anomaly AS k
    WHERE k.kind = 'vanished_without_termination'
      AND k.employee_key = a.employee_key AND k.observed_on = a.missing_from
);

INSERT INTO etl_anomaly (run_id, batch_id, kind, employee_key, observed_on, detail, origin)
WITH compared AS (
    SELECT
        o.*,
        LAG(spell_no) OVER w AS p_spell,
        LAG(spell_last_status) OVER w AS p_spell_status
    FROM int_employee_observation AS o
    WINDOW w AS (PARTITION BY employee_key ORDER BY snapshot_date)
)
SELECT :run_id, batch_id, 'job_change_without_new_effective_date', employee_key, snapshot_date,
       'job_code or position_id changed but job_effective_date stayed ' || CAST(job_effective_date AS TEXT),
       'history'
FROM compared
WHERE spell_no = p_spell AND job_changed AND job_effective_date = prev_job_effective_date
UNION ALL
SELECT :run_id, batch_id, 'rehire_without_observed_separation', employee_key, snapshot_date,
       'a later hire_date began a new spell but the previous spell was never seen terminated',
       'history'
FROM compared
WHERE p_spell IS NOT NULL AND spell_no <> p_spell AND p_spell_status <> 'terminated';

-- Training records of an employee no loaded roster ever showed: kept (sources.md v2).
-- The roster history holds every staged roster employee (it was just brought up to date
-- from stg_roster), in a row per run instead of per snapshot: far fewer rows to read.
INSERT INTO etl_anomaly (run_id, batch_id, kind, employee_key, observed_on, detail, origin)
SELECT :run_id, MIN(t.source_batch_id), 'training_employee_not_in_roster', t.employee_key,
       MIN(t.assigned_on),
       CAST(COUNT(*) AS TEXT) || ' training record(s) of an employee no loaded roster shows, kept',
       'history'
FROM fct_training AS t
WHERE NOT EXISTS (SELECT 1 FROM int_roster_change AS r WHERE r.employee_key = t.employee_key)
GROUP BY t.employee_key;
