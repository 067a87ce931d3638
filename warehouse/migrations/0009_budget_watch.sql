-- rxstaff warehouse, schema version 9: the budget watch's record of what it sent, so a
-- seat waiting for budget release is reported once per threshold it crosses.
CREATE TABLE etl_budget_alert (
    vacancy_id     TEXT NOT NULL,
    threshold_days INTEGER NOT NULL,
    days_waiting   INTEGER NOT NULL,
    as_of_date     DATE NOT NULL,
    run_id         TEXT NOT NULL,
    sent_to        TEXT NOT NULL,
    sent_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (vacancy_id, threshold_days)
);
