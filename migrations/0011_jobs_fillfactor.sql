-- Room on each page of `jobs` for both of a job's status changes (docs/write-path.md, "Indexes on
-- jobs"): a claim and a result each write a new version of the row, about its own size, and at
-- fillfactor 60 a page filled by inserts had room for only part of one round of them. A version
-- that moves to another page costs a lock record and its whole tuple in WAL; on the same page only
-- the changed bytes are logged. Only pages filled from now on are affected; nothing is rewritten.
ALTER TABLE jobs SET (fillfactor = 45);
