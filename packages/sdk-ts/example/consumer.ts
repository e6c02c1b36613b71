// A program of another project that installed the packed @jq/sdk tarball: it imports only the
// package name, is type-checked against the package's .d.ts files, and runs one job end to end.
import { JqClient, Worker, proto } from "@jq/sdk";

const address = process.argv[2]!;
const client = new JqClient({ address, apiKey: process.env.JQ_API_KEY });
await client.call(client.admin, "createQueue", { name: "from-the-package", paused: false });
const worker = new Worker({
  address,
  apiKey: process.env.JQ_API_KEY,
  queues: ["from-the-package"],
  handler: async (job) => `hello, ${job.payload.toString("utf8")}`,
});
await worker.start();
const { job } = await client.call(client.jobs, "submitJob", {
  queue: "from-the-package",
  payload: Buffer.from("world"),
  metadata: {},
  priority: 0,
  idempotencyKey: "",
});
let status: proto.JobStatus = proto.JobStatus.PENDING;
let result = "";
for (const deadline = Date.now() + 20_000; status !== proto.JobStatus.DONE && Date.now() < deadline; ) {
  await new Promise((r) => setTimeout(r, 100));
  const read = await client.call(client.jobs, "getJobStatus", { jobId: job!.id, view: proto.JobView.FULL });
  status = read.job!.status;
  result = Buffer.from(read.job!.result).toString("utf8");
}
await worker.close();
client.close();
process.stdout.write(JSON.stringify({ status: proto.JobStatus[status], result }) + "\n");
