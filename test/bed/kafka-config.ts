import { randomBytes } from "node:crypto";

// The files a single-node KRaft broker needs, as plain text. Kept free of I/O so the settings
// that matter for tests (one partition for the internal topics, replication factor 1, no
// rebalance delay) are easy to read in one place.

export interface KafkaPorts {
  broker: number;
  controller: number;
}

/** One node that is both broker and controller, with a static one-voter quorum. */
export function renderServerProperties(ports: KafkaPorts, logDir: string): string {
  const settings: Record<string, string | number> = {
    "process.roles": "broker,controller",
    "node.id": 1,
    "controller.quorum.voters": `1@127.0.0.1:${ports.controller}`,
    listeners: `PLAINTEXT://127.0.0.1:${ports.broker},CONTROLLER://127.0.0.1:${ports.controller}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${ports.broker}`,
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "log.dirs": logDir,
    "num.partitions": 1,
    "auto.create.topics.enable": "false",
    // Internal topics: one replica (there is one broker) and one partition, because creating
    // the default 50 partitions of __consumer_offsets on first use costs seconds per run.
    "offsets.topic.replication.factor": 1,
    "offsets.topic.num.partitions": 1,
    "transaction.state.log.replication.factor": 1,
    "transaction.state.log.min.isr": 1,
    "transaction.state.log.num.partitions": 1,
    "share.coordinator.state.topic.replication.factor": 1,
    "share.coordinator.state.topic.min.isr": 1,
    // Consumers in tests join alone; waiting 3 s for company only slows every test down.
    "group.initial.rebalance.delay.ms": 0,
    "num.recovery.threads.per.data.dir": 1,
  };
  return `${Object.entries(settings)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join("\n")}\n`;
}

/** log4j2 configuration sending WARN and above to one file, so the JVM's console stays quiet. */
export function renderLog4j2Properties(logFile: string): string {
  return [
    "status = warn",
    "appender.file.type = File",
    "appender.file.name = file",
    `appender.file.fileName = ${logFile}`,
    "appender.file.layout.type = PatternLayout",
    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = WARN",
    "rootLogger.appenderRef.file.ref = file",
    "",
  ].join("\n");
}

/**
 * A cluster id in Kafka's format (16 random bytes, base64url, unpadded: 22 characters), made here
 * to save a JVM start for `kafka-storage random-uuid`. Like Kafka, skip ids starting with "-",
 * which command lines would read as an option.
 */
export function randomKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}
