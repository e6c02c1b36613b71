-- Presence of the cluster's processes (SPEC §8): each jq process announces itself every
-- JQ_PRESENCE_INTERVAL_MS; a node is alive while its last announcement is within three intervals.
-- A process that stops cleanly removes its row; a killed one stays, not alive, until cleaned up.
CREATE TABLE cluster_nodes (
  node_id    text PRIMARY KEY,
  role       text NOT NULL CHECK (role IN ('api', 'scheduler', 'health')),
  version    text NOT NULL,
  hostname   text NOT NULL,
  leader     boolean NOT NULL DEFAULT false,
  started_at timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL DEFAULT now()
);
