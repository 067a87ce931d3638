-- Who was employed when: each period of dim_employee in which the employee was hired and
-- not separated (a leave counts), from employed_from until employed_until (exclusive;
-- null: still employed as far as the data knows). Every "employed on day D" of the
-- models is this: employed_from <= D AND (employed_until IS NULL OR employed_until > D).
SELECT
    employee_key, job_code, position_id, pharmacy_model, department, fte, hire_date,
    GREATEST(valid_from, hire_date) AS employed_from,
    valid_to AS employed_until
FROM dim_employee
WHERE employment_status <> 'terminated'
