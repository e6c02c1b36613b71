-- The first PENDING jobs of a queue, found by walking jobs_claim_idx (docs/write-path.md, "Plans
-- that read a whole backlog to sort it"). The claim and the submit's hand-off check ask for them;
-- as subqueries of those statements, a plan cached while the statistics showed a few PENDING jobs
-- read every PENDING job of the queue by a bitmap scan and sorted them to keep the first ones (a
-- median of 26,155 rows per claim in the bench), and kept doing so as a backlog grew. Each lookup
-- is its own statement here, planned with index scans as the only way in and no sort: the index
-- gives the claim order, so the plan stops at the limit whatever the statistics or the session's
-- settings say. plpgsql keeps each lookup's plan for the session, as the named statements that
-- call them keep theirs.

-- Up to p_limit due PENDING jobs of p_queue in claim order, locked, skipping those another
-- transaction holds (the claim's candidates).
CREATE FUNCTION jq_claim_candidates(p_queue text, p_limit integer)
RETURNS TABLE (id uuid, priority smallint)
LANGUAGE plpgsql VOLATILE
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_indexscan = on
SET enable_sort = off
AS $$
BEGIN
  RETURN QUERY
    SELECT j.id, j.priority FROM jobs j
    WHERE j.queue = p_queue AND j.status = 'PENDING' AND (j.not_before IS NULL OR j.not_before <= now())
    ORDER BY j.priority DESC, j.id
    LIMIT p_limit
    FOR UPDATE OF j SKIP LOCKED;
END
$$;

-- Whether p_queue holds a due PENDING job (a hand-off must not jump one).
CREATE FUNCTION jq_has_due_pending(p_queue text)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
SET enable_bitmapscan = off
SET enable_indexscan = on
SET enable_sort = off
AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM jobs p
    WHERE p.queue = p_queue AND p.status = 'PENDING' AND (p.not_before IS NULL OR p.not_before <= now()));
END
$$;
