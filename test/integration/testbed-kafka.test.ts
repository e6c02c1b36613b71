import type { Admin, Consumer, IHeaders, Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKafka, createTopic, uniqueTopicName } from "../support/kafka.js";

// A round trip through the bed's broker with the settings jq's event publisher uses (idempotent
// producer, acks from all in-sync replicas): what goes in comes out, in order, headers included.
describe("test bed kafka", () => {
  const kafka = createKafka("jq-testbed-kafka");
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    consumer = kafka.consumer({ groupId: uniqueTopicName("group") });
    await Promise.all([admin.connect(), producer.connect(), consumer.connect()]);
  });
  afterAll(async () => {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
  });

  it("delivers keys, values and headers in the order produced", async () => {
    const topic = await createTopic(admin, uniqueTopicName("roundtrip"), 1);
    const sent = Array.from({ length: 5 }, (_, i) => ({
      key: `job-${i}`,
      value: JSON.stringify({ seq: i }),
      headers: { "event-type": "job.created", seq: String(i) },
    }));

    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; value: string; headers: Record<string, string> }[] = [];
    const allReceived = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          received.push({
            key: message.key?.toString() ?? "",
            value: message.value?.toString() ?? "",
            headers: decodeHeaders(message.headers),
          });
          if (received.length === sent.length) resolve();
        },
      });
    });

    await producer.send({ topic, acks: -1, messages: sent });
    await allReceived;

    expect(received).toEqual(sent);
  });
});

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));
}
