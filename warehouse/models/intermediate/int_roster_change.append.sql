-- Add one snapshot later than everything loaded (:snapshot_date): an employee whose
-- latest run it repeats extends that run; anyone else starts a new run. Touches only the
-- night's rows and each employee's latest run, whatever the years already loaded.
UPDATE int_roster_change AS c
SET last_seen = n.snapshot_date
FROM (
    SELECT employee_key, MAX(snapshot_date) AS latest
    FROM int_roster_change
    GROUP BY employee_key
) AS l, stg_roster AS n
WHERE c.employee_key = l.employee_key
  AND c.snapshot_date = l.latest
  AND n.snapshot_date = :snapshot_date
  AND n.employee_key = c.employee_key
{%- for column in roster_state %}
  AND n.{{ column }} IS NOT DISTINCT FROM c.{{ column }}
{%- endfor %};

INSERT INTO int_roster_change (
    batch_id, row_number, snapshot_date, last_seen, employee_key, {{ roster_state | join(", ") }}
)
SELECT
    n.batch_id, n.row_number, n.snapshot_date, n.snapshot_date, n.employee_key,
    {%- for column in roster_state %} n.{{ column }}{{ "," if not loop.last }}{% endfor %}
FROM stg_roster AS n
LEFT JOIN int_roster_change AS c
    ON c.employee_key = n.employee_key AND c.last_seen = n.snapshot_date
WHERE n.snapshot_date = :snapshot_date AND c.employee_key IS NULL;
