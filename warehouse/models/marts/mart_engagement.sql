-- Engagement and career-growth indexes per survey year and group, with anonymity, the
-- like-for-like trend and the response rate (warehouse.md v2).
-- {min_group_size} is bound when the view is (re)created (default 5).
WITH groups AS (
    SELECT
        g.survey_year,
        g.group_by,
        g.group_value,
        CAST(COUNT(*) AS INTEGER) AS respondents,
        ROUND(CAST(AVG((s.engagement - 1) * 25) AS NUMERIC(18, 6)), 1) AS engagement_index,
        ROUND(CAST(AVG((s.career_growth - 1) * 25) AS NUMERIC(18, 6)), 1) AS career_growth_index,
        CASE WHEN SUM(s.engagement_answers) > 0
            THEN CAST(SUM(s.favorable) AS DOUBLE PRECISION) / SUM(s.engagement_answers) END
            AS favorable_pct,
        ROUND(CAST(AVG((s.engagement_vs_prior - 1) * 25) AS NUMERIC(18, 6)), 1)
            AS comparable_index,
        ROUND(CAST(AVG((s.engagement_vs_next - 1) * 25) AS NUMERIC(18, 6)), 1)
            AS next_year_base_index
    FROM int_survey_group_member AS g
    LEFT JOIN int_survey_respondent_score AS s
        ON s.batch_id = g.batch_id AND s.row_number = g.row_number
    GROUP BY g.survey_year, g.group_by, g.group_value
),
ranked AS (
    SELECT
        *,
        respondents < {min_group_size} AS too_small,
        SUM(CASE WHEN respondents < {min_group_size} THEN 1 ELSE 0 END)
            OVER (PARTITION BY survey_year, group_by) AS small_groups,
        ROW_NUMBER() OVER (
            PARTITION BY survey_year, group_by
            ORDER BY CASE WHEN respondents < {min_group_size} THEN 1 ELSE 0 END, respondents, group_value
        ) AS size_rank
    FROM groups
),
judged AS (
    SELECT
        *,
        too_small OR (small_groups = 1 AND size_rank = 1) AS suppressed
    FROM ranked
),
population AS (
    SELECT survey_year, 'ALL' AS group_by, 'ALL' AS group_value, employee_key
    FROM int_survey_population
    UNION ALL
    SELECT survey_year, 'job_family', job_family, employee_key FROM int_survey_population
    UNION ALL
    SELECT survey_year, 'pharmacy_model', pharmacy_model, employee_key FROM int_survey_population
    UNION ALL
    SELECT survey_year, 'department', department, employee_key FROM int_survey_population
),
headcounts AS (
    SELECT survey_year, group_by, group_value, CAST(COUNT(*) AS INTEGER) AS headcount_at_close
    FROM population
    WHERE group_value IS NOT NULL
    GROUP BY survey_year, group_by, group_value
)
SELECT
    j.survey_year,
    j.group_by,
    j.group_value,
    CASE WHEN j.suppressed THEN NULL ELSE j.respondents END AS respondents,
    CASE WHEN j.suppressed THEN NULL ELSE j.engagement_index END AS engagement_index,
    CASE WHEN j.suppressed THEN NULL ELSE j.career_growth_index END AS career_growth_index,
    CASE WHEN j.suppressed THEN NULL ELSE j.favorable_pct END AS favorable_pct,
    j.suppressed,
    h.headcount_at_close,
    CASE WHEN NOT j.suppressed AND h.headcount_at_close > 0
        THEN CAST(j.respondents AS DOUBLE PRECISION) / h.headcount_at_close END AS response_rate,
    CASE WHEN j.suppressed THEN NULL ELSE j.comparable_index END AS engagement_index_comparable,
    CASE WHEN NOT j.suppressed AND NOT p.suppressed
        THEN j.comparable_index - p.next_year_base_index END AS engagement_change
FROM judged AS j
LEFT JOIN judged AS p
    ON p.survey_year = j.survey_year - 1 AND p.group_by = j.group_by AND p.group_value = j.group_value
LEFT JOIN headcounts AS h
    ON h.survey_year = j.survey_year AND h.group_by = j.group_by AND h.group_value = j.group_value
