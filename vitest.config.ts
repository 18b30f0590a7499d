import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds dist/ once from the current sources before any test file (worker threads and the
    // CLI's child processes run it); no test file builds.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
  },
});
