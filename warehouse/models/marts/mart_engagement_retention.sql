-- Did engaged groups stay? (warehouse.md v2): each surveyed group's engagement beside the
-- separations of the group's employees in the 12 months after the survey closed.
WITH members AS (
    SELECT survey_year, close_date, 'ALL' AS group_by, 'ALL' AS group_value, employee_key
    FROM int_survey_population
    UNION ALL
    SELECT survey_year, close_date, 'job_family', job_family, employee_key
    FROM int_survey_population
    UNION ALL
    SELECT survey_year, close_date, 'pharmacy_model', pharmacy_model, employee_key
    FROM int_survey_population
),
left_within_year AS (
    -- each member's separations after the close date and within 365 days
    SELECT
        m.survey_year, m.group_by, m.group_value, m.employee_key,
        MAX(CASE WHEN s.event_date IS NOT NULL THEN 1 ELSE 0 END) AS separated,
        MAX(CASE WHEN s.termination_type IN ('voluntary', 'retirement') THEN 1 ELSE 0 END)
            AS left_voluntarily
    FROM members AS m
    LEFT JOIN fct_career_event AS s
        ON s.employee_key = m.employee_key
        AND s.event_type = 'separation'
        AND s.event_date > m.close_date
        AND s.event_date <= m.close_date + 365
    GROUP BY m.survey_year, m.group_by, m.group_value, m.employee_key
),
counted AS (
    SELECT
        l.survey_year, l.group_by, l.group_value,
        CAST(COUNT(*) AS INTEGER) AS headcount_at_close,
        CAST(SUM(l.separated) AS INTEGER) AS separations,
        CAST(SUM(l.left_voluntarily) AS INTEGER) AS voluntary_separations
    FROM left_within_year AS l
    GROUP BY l.survey_year, l.group_by, l.group_value
),
closes AS (
    SELECT DISTINCT survey_year, close_date FROM int_survey_population
)
SELECT
    e.survey_year,
    e.group_by,
    e.group_value,
    e.engagement_index,
    e.suppressed,
    c.headcount_at_close,
    CASE WHEN complete.yes THEN c.separations END AS separations_next_12m,
    CASE WHEN complete.yes THEN c.voluntary_separations END AS voluntary_separations_next_12m,
    CASE WHEN complete.yes AND c.headcount_at_close > 0
        THEN 1 - CAST(c.separations AS DOUBLE PRECISION) / c.headcount_at_close
    END AS retention_next_12m,
    COALESCE(complete.yes, FALSE) AS complete
FROM mart_engagement AS e
LEFT JOIN counted AS c
    ON c.survey_year = e.survey_year AND c.group_by = e.group_by AND c.group_value = e.group_value
LEFT JOIN (
    SELECT k.survey_year, a.as_of_date >= k.close_date + 365 AS yes
    FROM closes AS k
    CROSS JOIN int_roster_coverage AS a
) AS complete ON complete.survey_year = e.survey_year
WHERE e.group_by IN ('ALL', 'job_family', 'pharmacy_model')
