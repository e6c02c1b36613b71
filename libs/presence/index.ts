/**
 * libs/presence — who is in the cluster: every process announces itself in `cluster_nodes`
 * (NodeAnnouncer), and readClusterStatus reads the nodes and the published leader back, for
 * AdminService GetClusterStatus and apps/health's cluster view (libs/cluster-view).
 */
export * from "./node-announcer.js";
export * from "./cluster-status.js";
export { JQ_VERSION } from "./version.js";
