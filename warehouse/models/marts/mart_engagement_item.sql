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
    -- each answer's item first (through its respondent's year), then its groups: joined
    -- the other way, the groups met the items on the year alone, every member times every
    -- item of the year (many times the answers after a few years) before the answers narrowed them
    FROM stg_survey_answer AS a
    JOIN stg_survey_respondent AS r ON r.batch_id = a.batch_id AND r.row_number = a.row_number
    JOIN dim_survey_item AS i ON i.survey_year = r.survey_year AND i.question_id = a.question_id
    JOIN int_survey_group_member AS g ON g.batch_id = a.batch_id AND g.row_number = a.row_number
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
),
with_prior AS (
    -- the same item and group a year before: the row before it, if it is of that year
    -- (a self-join of judged would compute the answers and mart_engagement twice)
    SELECT
        j.*,
        LAG(j.survey_year) OVER w AS prior_year,
        LAG(j.mean_score) OVER w AS prior_mean_score,
        LAG(j.suppressed) OVER w AS prior_suppressed
    FROM judged AS j
    WINDOW w AS (PARTITION BY j.group_by, j.group_value, j.item_key ORDER BY j.survey_year)
)
SELECT
    survey_year,
    group_by,
    group_value,
    item_key,
    dimension,
    item_text,
    CASE WHEN suppressed THEN NULL ELSE answered END AS answered,
    CASE WHEN suppressed THEN NULL ELSE mean_score END AS mean_score,
    CASE WHEN suppressed THEN NULL ELSE favorable_pct END AS favorable_pct,
    CASE WHEN suppressed THEN NULL ELSE neutral_pct END AS neutral_pct,
    CASE WHEN suppressed THEN NULL ELSE unfavorable_pct END AS unfavorable_pct,
    CASE WHEN NOT suppressed AND prior_year = survey_year - 1 AND NOT prior_suppressed
        THEN mean_score - prior_mean_score END AS change_vs_prior,
    suppressed
FROM with_prior
