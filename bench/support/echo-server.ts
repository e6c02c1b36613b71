// Child process of grpc-echo.ts: a grpc-js server on a free loopback port whose one method
// returns the request's bytes. Reports its port over IPC and exits with its parent.
import * as grpc from "@grpc/grpc-js";
import { ECHO_SERVICE } from "./grpc-echo.js";

const server = new grpc.Server();
server.addService(ECHO_SERVICE, {
  echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
});
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.send?.({ port });
});
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
