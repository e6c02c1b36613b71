import { describe, expect, it } from "vitest";
import { DASHBOARD_JS } from "./dashboard-assets.js";
import { DASHBOARD_HTML } from "./dashboard-page.js";

describe("dashboard assets", () => {
  it("ship a script that parses", () => {
    // The browser test runs it; this catches a syntax error in the template strings early.
    expect(() => new Function(DASHBOARD_JS)).not.toThrow();
  });

  it("keep the page free of inline script and style, which the CSP would refuse", () => {
    expect(DASHBOARD_HTML).not.toMatch(/<script>|<style|\sstyle=|\son[a-z]+=/i);
    expect(DASHBOARD_HTML.match(/src="[^"]+"|href="[^#"][^"]*"/g)).toEqual([
      'href="data:,"', // no icon, so the browser does not ask for /favicon.ico
      'href="assets/uplot.css"',
      'href="assets/dashboard.css"',
      'src="assets/uplot.js"',
      'src="assets/dashboard.js"',
    ]);
  });

  it("write data into the page as text only", () => {
    expect(DASHBOARD_JS).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  });
});
