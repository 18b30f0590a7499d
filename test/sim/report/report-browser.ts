/**
 * Opening a report in headless Chromium (Debian's `chromium`, which `.ci/run` installs) for the
 * browser tests: what the page logged as errors, what it requested, and what its charts drew.
 */
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { needTool } from "../../support/requirements.js";

export const CHROMIUM = "/usr/bin/chromium";
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** What the browser tests need (required under PROXKIT_REQUIRE_TOOLS=1, as in .ci/run). */
export const CHROMIUM_TOOL = needTool(
  "chromium",
  HAVE_CHROMIUM ? CHROMIUM : undefined,
  "Debian: apt-get install chromium; .ci/run installs it",
);

/** Run in the page (as text: the test's type check has no DOM library). */
const MEASURE = `({
  charts: [...document.querySelectorAll(".chart")].map((box) => {
    const svg = box.querySelector("svg");
    const rect = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      id: box.dataset.chart || "",
      width: rect.width,
      height: rect.height,
      marks: svg ? svg.querySelectorAll('g[class*="role-mark"] > *').length : 0,
    };
  }),
  noData: document.querySelectorAll(".no-data").length,
})`;

export interface PageCheck {
  /** Console errors ("console: ...") and uncaught page errors ("page: ..."). */
  errors: string[];
  /** Every URL the page requested besides itself. */
  requests: string[];
  charts: { id: string; width: number; height: number; marks: number }[];
  /** "No data" notes shown instead of a chart. */
  noData: number;
}

/** Headless Chromium with its own background networking off (so any request is the page's). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Loads the report at `path` in a new page and measures it. */
export async function checkReportPage(browser: Browser, path: string): Promise<PageCheck> {
  const url = pathToFileURL(path).href;
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`page: ${error.message}`));
  page.on("request", (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  try {
    await page.goto(url, { waitUntil: "load" });
    const found = (await page.evaluate(MEASURE)) as Omit<PageCheck, "errors" | "requests">;
    return { errors, requests, ...found };
  } finally {
    await page.close();
  }
}
