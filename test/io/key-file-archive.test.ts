import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";

import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { KeyFileError } from "../../src/core/errors.js";
import {
  DEFAULT_MAX_KEY_FILE_BYTES,
  encodeExportBin,
  unzipKeyFile,
  zipKeyFile,
} from "../../src/exposure/key-file/index.js";
import { readKeyFile, writeKeyFileZip } from "../../src/io/key-file-archive.js";
import {
  expectKeyFileError,
  REAL_FILES,
  makeKeys,
  SIGNED_ZIP,
} from "../exposure/key-file/fixtures.js";
import { itWith } from "../support/requirements.js";

const dir = mkdtempSync(join(tmpdir(), "proxkit-key-file-"));
const bin = encodeExportBin({
  startTimestampS: 1_593_633_600,
  endTimestampS: 1_593_720_000,
  region: "US",
  batchNum: 1,
  batchSize: 1,
  signatureInfos: [],
  keys: makeKeys(30),
  revisedKeys: [],
});
const sig = new Uint8Array([0x0a, 0x03, 0x10, 0x01, 0x18]);

/** Offset of the central-directory header of entry `name` (APPNOTE.TXT §4.3.12). */
function centralHeaderOf(zip: Uint8Array, name: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let at = 0; at + 46 <= zip.length; at++) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const nameBytes = view.getUint16(at + 28, true);
    if (new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameBytes)) === name) return at;
  }
  throw new Error(`no central header for ${name}`);
}

/** A copy of `zip` with a 32-bit field of `name`'s central header replaced. */
function patchCentral(zip: Uint8Array, name: string, offset: number, value: number): Uint8Array {
  const copy = zip.slice();
  new DataView(copy.buffer).setUint32(centralHeaderOf(copy, name) + offset, value, true);
  return copy;
}
const CRC = 16;
const UNCOMPRESSED_SIZE = 24;

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("key-file zips", () => {
  it("are written and read back, always to the same bytes", () => {
    const path = join(dir, "round-trip.zip");
    writeKeyFileZip(path, { bin, sig });
    expect(readKeyFile(path)).toEqual({ bin, sig, format: "zip" });
    expect(new Uint8Array(readFileSync(path))).toEqual(zipKeyFile({ bin, sig }));
    writeKeyFileZip(path, { bin }); // replaces it
    expect(readKeyFile(path)).toEqual({ bin, sig: undefined, format: "zip" });
  });

  itWith(REAL_FILES)("the real sample reads", () => {
    const { bin: realBin, sig: realSig } = readKeyFile(SIGNED_ZIP);
    expect([realBin.length, realSig?.length]).toEqual([3854, 111]);
  });

  it("without export.bin are refused", () => {
    const zip = zipSync({ "export.sig": sig, "README.txt": new Uint8Array(3) });
    expectKeyFileError(
      () => readKeyFile(write("no-bin.zip", zip)),
      /no-bin\.zip has no export\.bin, so it is not a diagnosis-key file \(it holds export\.sig, README\.txt\)/,
      "E_KEY_FILE_NO_BIN",
    );
    expectKeyFileError(
      () => readKeyFile(write("empty.zip", zipSync({}))),
      /has no export\.bin, .*\(it is empty\)/,
    );
  });

  it("whose entry declares a huge uncompressed size are refused before inflating", () => {
    const zip = patchCentral(zipKeyFile({ bin, sig }), "export.bin", UNCOMPRESSED_SIZE, 0xfff00000);
    expectKeyFileError(
      () => readKeyFile(write("bomb.zip", zip)),
      /bomb\.zip: entry export\.bin declares 4\.0 GB uncompressed, over the 64 MB limit \(a zip bomb\?\)/,
      "E_KEY_FILE_TOO_LARGE",
    );
  });

  it("whose entries declare too much in total are refused", () => {
    const zip = zipSync({
      "export.bin": bin,
      "a.bin": new Uint8Array(600),
      "b.bin": new Uint8Array(600),
    });
    expectKeyFileError(
      () => unzipKeyFile(zip, { maxBytes: 1500, source: "many.zip" }),
      /many\.zip: its entries declare .* in total, over the 1\.5 KB limit/,
    );
  });

  it("whose entry inflates past its declared size are refused", () => {
    const big = new Uint8Array(4 * 1024 * 1024); // 4 MB of zeros deflate to ~4 KB
    big.set(bin);
    const zip = patchCentral(
      zipSync({ "export.bin": big }),
      "export.bin",
      UNCOMPRESSED_SIZE,
      bin.length,
    );
    expectKeyFileError(
      () => unzipKeyFile(zip),
      /export\.bin inflates to more than the \d+ bytes its zip entry declares/,
      "E_KEY_FILE_TOO_LARGE",
    );
  });

  it("with a wrong CRC are refused", () => {
    const zip = patchCentral(zipKeyFile({ bin, sig }), "export.sig", CRC, 0x12345678);
    expectKeyFileError(
      () => unzipKeyFile(zip),
      /export\.sig is corrupt: its CRC-32 does not match/,
    );
  });

  it("that are truncated anywhere give one KeyFileError", () => {
    const zip = zipKeyFile({ bin, sig });
    for (let length = 0; length < zip.length; length++) {
      expectKeyFileError(
        () => unzipKeyFile(zip.subarray(0, length), { source: "cut.zip" }),
        /^cut\.zip/,
      );
    }
    expectKeyFileError(
      () => readKeyFile(write("cut.zip", zip.subarray(0, zip.length - 30))),
      /cut\.zip is not a readable zip \(no end-of-central-directory record: truncated, or not a zip\)/,
      "E_KEY_FILE_ZIP",
    );
  });

  it("with any one byte damaged either read or give a KeyFileError", () => {
    const zip = zipKeyFile({ bin, sig });
    for (let at = 0; at < zip.length; at++) {
      const damaged = zip.slice();
      damaged[at] ^= 0xff;
      try {
        unzipKeyFile(damaged);
      } catch (error) {
        expect(error).toBeInstanceOf(KeyFileError);
      }
    }
  });

  it("holding an entry twice are refused", () => {
    const zip = zipSync({ "export.bin": bin, "export.biN": bin });
    const copy = zip.slice();
    copy[centralHeaderOf(copy, "export.biN") + 46 + 9] = "n".charCodeAt(0);
    expectKeyFileError(() => unzipKeyFile(copy), /holds export\.bin twice/);
  });
});

describe("readKeyFile", () => {
  it("reads a bare export.bin as unsigned", () => {
    expect(readKeyFile(write("export.bin", bin))).toEqual({ bin, sig: undefined, format: "bin" });
  });

  it("reads a folder holding export.bin and export.sig", () => {
    const folder = join(dir, "folder");
    mkdirSync(folder);
    expectKeyFileError(
      () => readKeyFile(folder),
      /folder .*folder has no export\.bin/,
      "E_KEY_FILE_NO_BIN",
    );
    writeFileSync(join(folder, "export.bin"), bin);
    expect(readKeyFile(folder)).toEqual({ bin, sig: undefined, format: "folder" });
    writeFileSync(join(folder, "export.sig"), sig);
    expect(readKeyFile(folder)).toEqual({ bin, sig, format: "folder" });
  });

  it("refuses a file over the size limit from its size alone", () => {
    const path = join(dir, "huge.zip");
    const fd = openSync(path, "w");
    ftruncateSync(fd, DEFAULT_MAX_KEY_FILE_BYTES + 1024 * 1024); // sparse: no disk used
    closeSync(fd);
    expect(statSync(path).size).toBe(65 * 1024 * 1024);
    expectKeyFileError(
      () => readKeyFile(path),
      /huge\.zip is 65 MB, over the 64 MB limit for key files/,
      "E_KEY_FILE_TOO_LARGE",
    );
    expectKeyFileError(
      () => readKeyFile(write("small.bin", bin), { maxBytes: 100 }),
      /over the 100 bytes limit/,
    );
  });

  it("says what is wrong with a missing or foreign file", () => {
    expectKeyFileError(
      () => readKeyFile(join(dir, "nope.zip")),
      /key file .*nope\.zip does not exist/,
      "E_NOT_FOUND",
    );
    expectKeyFileError(
      () => readKeyFile(write("notes.txt", new TextEncoder().encode("hello"))),
      /notes\.txt is neither a key-file zip nor an export\.bin/,
      "E_KEY_FILE_FORMAT",
    );
  });

  it("says when the zip cannot be written", () => {
    expectKeyFileError(
      () => writeKeyFileZip(join(dir, "no-such-folder", "out.zip"), { bin }),
      /folder .*no-such-folder does not exist/,
      "E_PATH",
    );
  });
});
