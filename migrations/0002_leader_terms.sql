-- Leader election fencing (SPEC §7, libs/leader): the term of the current scheduler leader, per
-- election name, published by the elected node before it acts. Fenced writes check it FOR SHARE,
-- so a newer term waits for an older leader's open transactions, which then fail. The sequence
-- gives the Postgres-lock fallback its increasing terms.
CREATE TABLE jq_leader (
  name       text PRIMARY KEY,
  term       bigint NOT NULL CHECK (term > 0),
  node_id    text NOT NULL,
  elected_at timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE jq_leader_term AS bigint;
