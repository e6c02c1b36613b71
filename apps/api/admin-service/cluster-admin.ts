import type { Config } from "../../../libs/config/index.js";
import type { AdminServiceServer } from "../../../libs/proto/index.js";
import { aliveWindowMs } from "../../../libs/presence/index.js";
import { clusterNodeToProto } from "../../../libs/wire/index.js";
import type { Edge } from "../edge/handlers.js";
import type { ApiStores } from "../stores.js";

/** AdminService GetClusterStatus: the leader and its term, and every node recently seen. */
export function clusterAdmin(edge: Edge, deps: { stores: Pick<ApiStores, "cluster">; config: Config }): Partial<AdminServiceServer> {
  return {
    getClusterStatus: edge.unary("GetClusterStatus", async () => {
      const status = await deps.stores.cluster.readClusterStatus(aliveWindowMs(deps.config.presenceIntervalMs));
      return {
        leaderNodeId: status.leader?.nodeId ?? "",
        leaderTerm: status.leader?.term ?? "0",
        // The lock's expiry lives in Redis (or a Postgres session) and is not published.
        leaderLeaseExpiresAt: undefined,
        nodes: status.nodes.map(clusterNodeToProto),
      };
    }),
  };
}
