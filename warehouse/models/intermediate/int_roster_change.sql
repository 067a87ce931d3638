-- The roster history compressed to its changes: one row per employee per run of
-- consecutive snapshots that agree on every roster_state column (project.yml), from its
-- first snapshot to last_seen. Rebuilt from every staged snapshot when a correction or an
-- older snapshot arrives; a night that only adds later snapshots appends them instead
-- (int_roster_change.append.sql).
--
-- Most employees never return to a state they left: each of their distinct states is
-- one run, found by grouping, with no sort of every snapshot. Its first row is the
-- least [day, batch, row] (an employee is in a snapshot at most once). An employee
-- whose states' spans overlap has come back to one (promoted and back, a department
-- dropped and restored): only their snapshots go through the window that marks where
-- each run starts (LAG) and ends (LEAD) (docs/decisions.md, "The roster history by
-- grouping").
WITH grouped AS (
    SELECT
        employee_key, {{ roster_state | join(", ") }},
        MIN(ARRAY[CAST(snapshot_date - DATE '2000-01-01' AS INTEGER), batch_id, row_number])
            AS first_row,
        MAX(snapshot_date) AS last_seen
    FROM stg_roster
    GROUP BY employee_key, {{ roster_state | join(", ") }}
),
states AS (
    SELECT *, DATE '2000-01-01' + CAST(first_row[1] AS INTEGER) AS first_seen
    FROM grouped
),
spans AS (
    SELECT
        *,
        MAX(last_seen) OVER (
            PARTITION BY employee_key ORDER BY first_seen, last_seen
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS earlier_last_seen
    FROM states
),
returners AS (
    SELECT DISTINCT employee_key FROM spans WHERE first_seen <= earlier_last_seen
),
single_runs AS (
    SELECT
        CAST(first_row[2] AS INTEGER) AS batch_id, CAST(first_row[3] AS INTEGER) AS row_number,
        first_seen AS snapshot_date, last_seen, employee_key, {{ roster_state | join(", ") }}
    FROM spans AS s
    WHERE NOT EXISTS (SELECT 1 FROM returners AS x WHERE x.employee_key = s.employee_key)
),
marked AS (
    SELECT
        r.*,
        LAG(snapshot_date) OVER w IS NULL
        {%- for column in roster_state %}
            OR {{ column }} IS DISTINCT FROM LAG({{ column }}) OVER w
        {%- endfor %} AS starts_run,
        LEAD(snapshot_date) OVER w IS NULL
        {%- for column in roster_state %}
            OR {{ column }} IS DISTINCT FROM LEAD({{ column }}) OVER w
        {%- endfor %} AS ends_run
    FROM stg_roster AS r
    WHERE r.employee_key IN (SELECT employee_key FROM returners)
    WINDOW w AS (PARTITION BY employee_key ORDER BY snapshot_date)
),
bounds AS (
    SELECT
        *,
        CASE
            WHEN ends_run THEN snapshot_date
            ELSE LEAD(snapshot_date) OVER (PARTITION BY employee_key ORDER BY snapshot_date)
        END AS last_seen
    FROM marked
    WHERE starts_run OR ends_run
)
SELECT * FROM single_runs
UNION ALL
SELECT
    batch_id, row_number, snapshot_date, last_seen, employee_key, {{ roster_state | join(", ") }}
FROM bounds
WHERE starts_run
