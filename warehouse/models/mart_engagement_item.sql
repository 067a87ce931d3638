-- Each survey item's answers per year and group (warehouse.md v2), suppressed exactly
-- where mart_engagement suppresses the group, with the change against the year before.
-- Every group has a row for every item of its year, answered or not: were a suppressed
-- group's row missing where nobody in it answered, the ALL row minus the published rows
-- would give away the other suppressed group's figures for that item.
WITH answered AS (
    SELECT
        g.survey_year, g.group_by, g.group_value, i.item_key,
        CAST(COUNT(*) AS INTEGER) AS answered,
        ROUND(CAST((AVG(CAST(a.answer AS DOUBLE PRECISION)) - 1) * 25 AS NUMERIC(18, 6)), 1)
            AS mean_score,
        CAST(SUM(CASE WHEN a.answer >= 4 THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*)
            AS favorable_pct,
        CAST(SUM(CASE WHEN a.answer = 3 THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*)
            AS neutral_pct,
        CAST(SUM(CASE WHEN a.answer <= 2 THEN 1 ELSE 0 END) AS DOUBLE PRECISION) / COUNT(*)
            AS unfavorable_pct
    FROM int_survey_group_member AS g
    JOIN stg_survey_answer AS a ON a.batch_id = g.batch_id AND a.row_number = g.row_number
    JOIN dim_survey_item AS i ON i.survey_year = g.survey_year AND i.question_id = a.question_id
    GROUP BY g.survey_year, g.group_by, g.group_value, i.item_key
),
items AS (
    -- an item asked twice in a year (two numbers, one text) is one item
    SELECT survey_year, item_key, MIN(dimension) AS dimension, MIN(item_text) AS item_text
    FROM dim_survey_item
    GROUP BY survey_year, item_key
),
judged AS (
    SELECT
        e.survey_year, e.group_by, e.group_value, i.item_key, i.dimension, i.item_text,
        COALESCE(x.answered, 0) AS answered, x.mean_score, x.favorable_pct, x.neutral_pct,
        x.unfavorable_pct, e.suppressed
    FROM mart_engagement AS e
    JOIN items AS i ON i.survey_year = e.survey_year
    LEFT JOIN answered AS x
        ON x.survey_year = e.survey_year AND x.group_by = e.group_by
        AND x.group_value = e.group_value AND x.item_key = i.item_key
)
SELECT
    j.survey_year,
    j.group_by,
    j.group_value,
    j.item_key,
    j.dimension,
    j.item_text,
    CASE WHEN j.suppressed THEN NULL ELSE j.answered END AS answered,
    CASE WHEN j.suppressed THEN NULL ELSE j.mean_score END AS mean_score,
    CASE WHEN j.suppressed THEN NULL ELSE j.favorable_pct END AS favorable_pct,
    CASE WHEN j.suppressed THEN NULL ELSE j.neutral_pct END AS neutral_pct,
    CASE WHEN j.suppressed THEN NULL ELSE j.unfavorable_pct END AS unfavorable_pct,
    CASE WHEN NOT j.suppressed AND NOT p.suppressed
        THEN j.mean_score - p.mean_score END AS change_vs_prior,
    j.suppressed
FROM judged AS j
LEFT JOIN judged AS p
    ON p.survey_year = j.survey_year - 1 AND p.group_by = j.group_by
    AND p.group_value = j.group_value AND p.item_key = j.item_key
