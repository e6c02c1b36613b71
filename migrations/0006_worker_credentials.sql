-- Binds a worker id to the registration that created it (issue 13): RegisterWorker issues a
-- secret, and the server keeps only its SHA-256 here; `registered_by` is the name of the API key
-- that registered the worker (never the key), which may register the same id again.
ALTER TABLE workers ADD COLUMN secret_sha256 bytea;
ALTER TABLE workers ADD COLUMN registered_by text;
