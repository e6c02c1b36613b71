import { afterAll, beforeAll } from "vitest";
import { describeResources, hasResources, minimumCounts, type ResourceCounts } from "./resource-diff.js";
import { resourcesLeftOpen, sampleResources } from "./resource-leaks.js";

// Fails a test file that leaves a pool, server, socket, consumer or timer open (setup file of
// both vitest projects). Hook order is what makes this work: with vitest's default
// `sequence.hooks: "stack"`, afterAll hooks run in reverse order of registration, and a setup
// file is loaded before the test file, so this afterAll runs after every afterAll of the file.
//
// The baseline is the smaller of two samples: one when this module loads (before the test file
// is imported, so a timer started at a test file's top level counts as a leak) and one in
// beforeAll (so a transient timer of vitest's present at load time does not hide a leak).
// Only ref'd resources are seen: an unref'd timer or socket does not keep a process alive and
// Node does not report it.

const atLoad = sampleResources();
let baseline: ResourceCounts = atLoad;

beforeAll(() => {
  baseline = minimumCounts(atLoad, sampleResources());
});

afterAll(async () => {
  const leaked = await resourcesLeftOpen(baseline, { graceMs: 2_000 });
  if (hasResources(leaked)) {
    throw new Error(
      `this test file left resources open: ${describeResources(leaked)}. ` +
        "Close them in afterAll/afterEach (pool.end(), client.quit(), consumer.disconnect(), server.close(), clearInterval).",
    );
  }
});
