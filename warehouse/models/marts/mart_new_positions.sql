-- Seats created by released new_position releases, per year of release and pharmacy
-- model (and ALL). A seat released
-- twice counts once, with its first release's FTE and amount.
WITH seats AS (
    SELECT *
    FROM (
        SELECT
            b.*,
            ROW_NUMBER() OVER (PARTITION BY position_id ORDER BY released_date, release_id) AS pick
        FROM fct_budget_release AS b
        WHERE action = 'new_position' AND status = 'released' AND released_date IS NOT NULL
    ) AS ranked
    WHERE pick = 1
)
SELECT
    CAST(EXTRACT(YEAR FROM s.released_date) AS INTEGER) AS year,
    s.job_code,
    j.job_title,
    j.created_in_expansion,
    CASE WHEN g.all_models = 1 THEN 'ALL' ELSE COALESCE(s.pharmacy_model, '(not stated)') END
        AS pharmacy_model,
    CAST(COUNT(DISTINCT s.position_id) AS INTEGER) AS positions,
    SUM(s.fte) AS fte,
    SUM(s.annual_amount) AS annual_amount
FROM seats AS s
JOIN dim_job AS j ON j.job_code = s.job_code
{{ rollups(["all_models"]) }}
GROUP BY CAST(EXTRACT(YEAR FROM s.released_date) AS INTEGER), s.job_code, j.job_title,
    j.created_in_expansion,
    CASE WHEN g.all_models = 1 THEN 'ALL' ELSE COALESCE(s.pharmacy_model, '(not stated)') END
