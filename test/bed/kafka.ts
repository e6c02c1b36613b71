import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { stopIdleRequestQueueTimers } from "../../libs/outbox/kafkajs-idle-timer.js";
import { findFreePort } from "./free-port.js";
import { randomKafkaClusterId, renderLog4j2Properties, renderServerProperties } from "./kafka-config.js";
import { createScratchDir } from "./scratch-dir.js";
import { runToCompletion, startServiceProcess, type ServiceProcess } from "./service-process.js";
import { stopOnlyOnce, type StartedService } from "./started-service.js";
import { waitUntil } from "./wait-until.js";

// A real single-node Kafka (KRaft, broker and controller in one JVM) from the jars that
// scripts/kafka/fetch-jars.sh caches. The JVM is tuned for a short life on a small machine:
// a small heap, the serial collector and only the quick JIT tier.

const FETCH_JARS_SCRIPT = fileURLToPath(new URL("../../scripts/kafka/fetch-jars.sh", import.meta.url));

const JVM_OPTIONS = [
  "-Xms128m",
  "-Xmx512m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:-UsePerfData",
  "-Djava.awt.headless=true",
];

/** The folder of Kafka's jars, fetched once into the cache by the project's script. */
export async function kafkaLibsDir(): Promise<string> {
  const { stdout } = await promisify(execFile)("bash", [FETCH_JARS_SCRIPT], { maxBuffer: 1 << 20 });
  const dir = stdout.trim().split("\n").at(-1);
  if (dir === undefined || dir === "") throw new Error(`${FETCH_JARS_SCRIPT} printed no folder`);
  return dir;
}

function javaBinary(): string {
  const javaHome = process.env.JAVA_HOME;
  return javaHome === undefined || javaHome === "" ? "java" : path.join(javaHome, "bin", "java");
}

/** Resolves once an admin client can describe the cluster and list its topics. */
export async function probeKafka(brokers: string[]): Promise<void> {
  stopIdleRequestQueueTimers(); // as the relay does: no 1 ms timer per idle connection
  const kafka = new Kafka({
    clientId: "jq-testbed-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error("no broker registered yet");
    await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** A local Kafka whose broker process can be stopped and started again on the same data and ports. */
export interface LocalKafka extends StartedService<string[]> {
  /**
   * Stops the broker, keeping its data: SIGTERM for a controlled shutdown, SIGKILL for a crash.
   * Clients get connection refused until `startServer()`.
   */
  stopServer(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers an admin client. */
  startServer(): Promise<void>;
}

export async function startLocalKafka(): Promise<LocalKafka> {
  const [libs, scratch] = await Promise.all([kafkaLibsDir(), createScratchDir("kafka")]);
  let server: ServiceProcess | undefined;
  const stop = stopOnlyOnce(async () => {
    // SIGTERM runs the broker's controlled shutdown; a stuck JVM is killed after the grace.
    await server?.stop("SIGTERM", 15_000);
    await scratch.remove();
  });
  try {
    const ports = { broker: await findFreePort(), controller: await findFreePort() };
    const propertiesFile = path.join(scratch.path, "server.properties");
    const log4jFile = path.join(scratch.path, "log4j2.properties");
    await fs.writeFile(propertiesFile, renderServerProperties(ports, path.join(scratch.path, "data")));
    await fs.writeFile(log4jFile, renderLog4j2Properties(path.join(scratch.path, "kafka.log")));
    const jvm = [...JVM_OPTIONS, `-Dlog4j2.configurationFile=${log4jFile}`, "-cp", path.join(libs, "*")];
    const common = { cwd: scratch.path, logFile: path.join(scratch.path, "jvm.log"), scratchDir: scratch.path };

    await runToCompletion({
      ...common,
      command: javaBinary(),
      args: [...jvm, "kafka.tools.StorageTool", "format", "-t", randomKafkaClusterId(), "-c", propertiesFile],
      timeoutMs: 60_000,
    });
    const brokers = [`127.0.0.1:${ports.broker}`];
    const startServer = async (): Promise<void> => {
      const started = await startServiceProcess({ ...common, command: javaBinary(), args: [...jvm, "kafka.Kafka", propertiesFile] });
      server = started;
      await waitUntil(() => probeKafka(brokers), {
        what: "kafka",
        timeoutMs: 90_000,
        intervalMs: 250,
        gaveUp: () => started.deathReport(),
      });
    };
    await startServer();
    return {
      endpoint: brokers,
      where: `${brokers[0] ?? ""} (pid ${server!.pid})`,
      stop,
      async stopServer(signal = "SIGTERM") {
        await server?.stop(signal, 15_000);
        server = undefined;
      },
      startServer,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
