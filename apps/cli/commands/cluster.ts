import { Command } from "commander";
import { GetClusterStatusResponse, NodeRole } from "../../../libs/proto/index.js";
import { withClient } from "../context.js";
import { enumLabel } from "../enums.js";
import { formatTime, printJson, printTable } from "../output.js";

export function clusterCommands(): Command {
  const cluster = new Command("cluster").description("the cluster's processes and scheduler leader");
  cluster.command("status").description("the scheduler leader and every process seen lately")
    .action(async (_flags: object, cmd: Command) =>
      withClient(cmd, async ({ client: c, json }) => {
        const res = await c.call(c.admin, "getClusterStatus", {});
        if (json) return printJson(GetClusterStatusResponse.toJSON(res));
        const leader = res.leaderNodeId ? `${res.leaderNodeId} (term ${res.leaderTerm}, lease until ${formatTime(res.leaderLeaseExpiresAt)})` : "none";
        process.stdout.write(`leader: ${leader}\n`);
        printTable(
          ["NODE", "ROLE", "LEADER", "ALIVE", "VERSION", "HOST", "STARTED", "LAST SEEN"],
          res.nodes.map((n) => [n.nodeId, enumLabel(NodeRole, n.role), n.leader ? "yes" : "", n.alive ? "yes" : "no", n.version, n.hostname, formatTime(n.startedAt), formatTime(n.lastSeenAt)]),
        );
      }),
    );
  return cluster;
}
