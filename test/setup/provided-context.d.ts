import type { TestBedEndpoints } from "../bed/index.js";

// What the integration project's global setup hands to every test file: `inject("testBed")`.
declare module "vitest" {
  export interface ProvidedContext {
    testBed: TestBedEndpoints;
  }
}
