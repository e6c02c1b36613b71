import type { TestProject } from "vitest/node";
import { killEverythingOnSignals } from "../bed/emergency-cleanup.js";
import { startTestBed } from "../bed/index.js";

// Global setup of the integration project: one test bed for the whole run, handed to the test
// files through `inject("testBed")`; the returned teardown stops it.
//
// Interrupting the run (Ctrl-C, or CI sending SIGTERM) makes vitest exit at once without running
// this teardown, so on those signals every service is SIGKILLed and its data removed right away:
// nothing is kept, so there is nothing to shut down gracefully. A runner killed outright is
// covered by the watchdog each service process gets (test/bed/service-process.ts).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopKillingOnSignals = killEverythingOnSignals();
  const bed = await startTestBed();
  project.provide("testBed", bed.endpoints);
  return async () => {
    await bed.stop();
    stopKillingOnSignals();
  };
}
