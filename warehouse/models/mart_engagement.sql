-- Engagement and career-growth indexes per survey year and group, with anonymity, the
-- like-for-like trend and the response rate (warehouse.md v2).
-- {min_group_size} is bound when the view is (re)created (default 5).
-- Engagement items asked in a year and the year before it, matched by item_key.
WITH shared AS (
    SELECT DISTINCT cur.survey_year, cur.item_key
    FROM dim_survey_item AS cur
    JOIN dim_survey_item AS prev
        ON prev.item_key = cur.item_key AND prev.survey_year = cur.survey_year - 1
    WHERE cur.dimension = 'engagement' AND prev.dimension = 'engagement'
),
-- Each item flagged once (tens of items), not each answer (a million). MATERIALIZED
-- keeps PostgreSQL from folding the flags back into the answers' join, where it paired
-- every answer with `shared` in a nested loop (18M comparisons, 3 s of the view).
items AS MATERIALIZED (
    SELECT
        i.survey_year, i.question_id, i.dimension, i.item_key,
        with_prior.item_key IS NOT NULL AS asked_year_before,
        with_next.item_key IS NOT NULL AS asked_year_after
    FROM dim_survey_item AS i
    LEFT JOIN shared AS with_prior
        ON with_prior.survey_year = i.survey_year AND with_prior.item_key = i.item_key
    LEFT JOIN shared AS with_next
        ON with_next.survey_year = i.survey_year + 1 AND with_next.item_key = i.item_key
    WHERE i.dimension IN ('engagement', 'career_growth')
),
flagged AS (
    SELECT
        a.batch_id, a.row_number, i.dimension, a.answer,
        i.asked_year_before, i.asked_year_after
    FROM stg_survey_answer AS a
    JOIN stg_survey_respondent AS r ON r.batch_id = a.batch_id AND r.row_number = a.row_number
    JOIN items AS i ON i.survey_year = r.survey_year AND i.question_id = a.question_id
),
respondent_scores AS (
    SELECT
        batch_id, row_number,
        AVG(CASE WHEN dimension = 'engagement' THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement,
        AVG(CASE WHEN dimension = 'career_growth' THEN CAST(answer AS DOUBLE PRECISION) END) AS career_growth,
        SUM(CASE WHEN dimension = 'engagement' AND answer >= 4 THEN 1 ELSE 0 END) AS favorable,
        SUM(CASE WHEN dimension = 'engagement' THEN 1 ELSE 0 END) AS engagement_answers,
        -- over the items also asked the year before (this year's comparable index) and
        -- over those asked again the year after (the base of next year's change)
        AVG(CASE WHEN dimension = 'engagement' AND asked_year_before
            THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement_vs_prior,
        AVG(CASE WHEN dimension = 'engagement' AND asked_year_after
            THEN CAST(answer AS DOUBLE PRECISION) END) AS engagement_vs_next
    FROM flagged
    GROUP BY batch_id, row_number
),
groups AS (
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
    LEFT JOIN respondent_scores AS s ON s.batch_id = g.batch_id AND s.row_number = g.row_number
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
    CASE WHEN j.too_small THEN NULL ELSE j.respondents END AS respondents,
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
