import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../src/core/errors.js";
import { SeededRandom } from "../../src/core/random.js";
import { loadKeyStore, saveKeyStore } from "../../src/io/key-store-file.js";
import { KeyStore } from "../../src/protocols/key-store.js";

describe("key-store files", () => {
  const dir = mkdtempSync(join(tmpdir(), "proxkit-keys-"));

  it("are written with mode 0600 and read back", () => {
    const store = new KeyStore("gaen");
    store.ensureCurrent(Date.UTC(2020, 3, 2), new SeededRandom(1));
    const path = join(dir, "a.json");
    saveKeyStore(path, store);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadKeyStore(path).toJson()).toEqual(store.toJson());
  });

  it("are never overwritten unless asked, and the old keys survive", () => {
    const path = join(dir, "b.json");
    const first = new KeyStore("dp3t");
    first.ensureCurrent(Date.UTC(2020, 3, 2), new SeededRandom(2));
    saveKeyStore(path, first);
    const before = readFileSync(path, "utf8");
    const second = new KeyStore("dp3t");
    second.ensureCurrent(Date.UTC(2020, 3, 2), new SeededRandom(3));
    expect(() => saveKeyStore(path, second)).toThrow(/already exists/);
    expect(readFileSync(path, "utf8")).toBe(before);
    saveKeyStore(path, second, { overwrite: true });
    expect(loadKeyStore(path).toJson()).toEqual(second.toJson());
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it("say which folder is missing when it cannot be created", () => {
    const store = new KeyStore("gaen");
    expect(() => saveKeyStore(join(dir, "no-such-folder", "k.json"), store)).toThrow(
      /folder .*no-such-folder does not exist/,
    );
  });

  it("give one clear error when missing, not JSON or truncated", () => {
    expect(() => loadKeyStore(join(dir, "missing.json"))).toThrow(/does not exist/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"format": "proxkit-key-store", "vers');
    expect(() => loadKeyStore(bad)).toThrow(KeyFileError);
    expect(() => loadKeyStore(bad)).toThrow(/not valid JSON/);
  });
});
