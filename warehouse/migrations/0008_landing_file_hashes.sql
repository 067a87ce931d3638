-- rxstaff warehouse, schema version 8: what the last committed run saw of each landing
-- file (its size and times, and the hash of its bytes), so that a run reads and hashes
-- again only a file whose size or times changed. No reader role or copy sees it.
CREATE TABLE rxstaff_landing_hash (
    file_name   TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    modified_ns BIGINT NOT NULL,
    changed_ns  BIGINT NOT NULL,
    inode       BIGINT NOT NULL,
    sha256      TEXT NOT NULL
);
