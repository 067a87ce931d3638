-- Vacancies by year opened, job family, pharmacy model and the reason the seat opened
-- (each also ALL; the ALL-reason rows are contract version 2's figures), with the time to
-- fill split into its stages (open -> request -> release -> fill), the internal fills,
-- and the vacancies still open on as_of_date with how long they have waited.
WITH vacancies AS (
    SELECT
        CAST(EXTRACT(YEAR FROM v.opened_on) AS INTEGER) AS year,
        j.job_family,
        COALESCE(v.pharmacy_model, '(not stated)') AS pharmacy_model,
        v.open_reason, v.closed_on, v.state, v.filled_internally, v.days_to_fill,
        v.days_to_request, v.days_waiting_for_budget, v.days_release_to_fill,
        CASE WHEN v.closed_on IS NULL THEN c.as_of_date - v.opened_on END AS days_open_unfilled
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
    CROSS JOIN int_roster_coverage AS c
),
grouped AS (
    SELECT
        v.year,
        {{ all_or("g.all_families", "v.job_family") }} AS job_family,
        {{ all_or("g.all_models", "v.pharmacy_model") }} AS pharmacy_model,
        {{ all_or("g.all_reasons", "v.open_reason") }} AS open_reason,
        v.closed_on, v.state, v.filled_internally, v.days_to_fill, v.days_to_request,
        v.days_waiting_for_budget, v.days_release_to_fill, v.days_open_unfilled
    FROM vacancies AS v
    {{ rollups(["all_families", "all_models", "all_reasons"]) }}
),
counted AS (
    SELECT
        year,
        job_family,
        pharmacy_model,
        open_reason,
        CAST(COUNT(*) AS INTEGER) AS vacancies_opened,
        CAST(COUNT(closed_on) AS INTEGER) AS vacancies_filled,
        {{ days_percentile("days_to_fill") }} AS median_days_to_fill,
        {{ days_percentile("days_to_fill", 0.9) }} AS p90_days_to_fill,
        {{ days_percentile("days_to_request") }} AS median_days_to_request,
        {{ days_percentile("days_waiting_for_budget") }} AS median_days_waiting_for_budget,
        {{ days_percentile("days_release_to_fill") }} AS median_days_release_to_fill,
        CAST(SUM(CASE WHEN state IN ('denied', 'withdrawn') THEN 1 ELSE 0 END) AS INTEGER)
            AS denied_or_withdrawn,
        CAST(SUM(
            CASE
                WHEN closed_on IS NULL
                    OR closed_on > CAST(CAST(year AS TEXT) || '-12-31' AS DATE) THEN 1
                ELSE 0
            END
        ) AS INTEGER) AS open_at_year_end,
        CAST(SUM(CASE WHEN closed_on IS NOT NULL AND filled_internally THEN 1 ELSE 0 END)
            AS INTEGER) AS filled_internally,
        CAST(SUM(CASE WHEN closed_on IS NULL THEN 1 ELSE 0 END) AS INTEGER) AS still_open,
        {{ days_percentile("days_open_unfilled") }} AS median_days_open_unfilled
    FROM grouped
    GROUP BY year, job_family, pharmacy_model, open_reason
)
SELECT
    *,
    CASE WHEN vacancies_filled > 0
        THEN CAST(filled_internally AS DOUBLE PRECISION) / vacancies_filled END
        AS internal_fill_rate
FROM counted
