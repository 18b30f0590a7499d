import { createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ECDSA_P256_SHA256_OID,
  encodeExportBin,
  encodeExportSig,
  type KeyFile,
  parsePublicKey,
  signatureInfoFor,
  signExportBin,
  verifyExportSig,
} from "../../../src/exposure/key-file/index.js";
import { readKeyFile } from "../../../src/io/key-file-archive.js";
import {
  expectKeyFileError,
  REAL_FILES,
  makeKeys,
  SAMPLE_PUBLIC_KEY,
  SIGNED_ZIP,
} from "./fixtures.js";
import { describeWith } from "../../support/requirements.js";

function p256() {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }) as string,
    publicKeyBase64: publicKey.export({ type: "spki", format: "der" }).toString("base64"),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) as string,
  };
}

const alice = { ...p256(), keyId: "310", keyVersion: "v1" };
const bob = { ...p256(), keyId: "311", keyVersion: "v2" };

function fileSignedBy(...signers: { keyId: string; keyVersion: string }[]): KeyFile {
  return {
    startTimestampS: 1_593_633_600,
    endTimestampS: 1_593_720_000,
    region: "US",
    batchNum: 1,
    batchSize: 1,
    signatureInfos: signers.map(signatureInfoFor),
    keys: makeKeys(10),
    revisedKeys: [],
  };
}

describeWith(REAL_FILES)("the signed sample (docs/protocols.md, real files)", () => {
  const { bin, sig } = REAL_FILES.met
    ? readKeyFile(SIGNED_ZIP)
    : { bin: new Uint8Array(), sig: undefined };

  it("verifies with the published key, as base64 SPKI or as PEM", () => {
    expect(verifyExportSig(bin, sig, SAMPLE_PUBLIC_KEY)).toBe("valid");
    const pem = createPublicKey({
      key: Buffer.from(SAMPLE_PUBLIC_KEY, "base64"),
      format: "der",
      type: "spki",
    }).export({ type: "spki", format: "pem" }) as string;
    expect(verifyExportSig(bin, sig, pem)).toBe("valid");
    expect(verifyExportSig(bin, sig, createPublicKey(pem))).toBe("valid");
  });

  it("is invalid with any other key", () => {
    expect(verifyExportSig(bin, sig, alice.publicKeyBase64)).toBe("invalid");
  });

  it("is invalid when any one byte of export.bin is flipped", () => {
    for (let at = 0; at < bin.length; at++) {
      const damaged = bin.slice();
      damaged[at] ^= 0x01;
      expect(verifyExportSig(damaged, sig, SAMPLE_PUBLIC_KEY), `byte ${at}`).toBe("invalid");
    }
  });

  it("is unchecked without a key and absent without export.sig", () => {
    expect(verifyExportSig(bin, sig, undefined)).toBe("unchecked");
    expect(verifyExportSig(bin, undefined, SAMPLE_PUBLIC_KEY)).toBe("absent");
    expect(verifyExportSig(bin, undefined, undefined)).toBe("absent");
  });
});

describe("signing", () => {
  it("signs with a fresh P-256 key and verifies", () => {
    const bin = encodeExportBin(fileSignedBy(alice));
    const sig = signExportBin(bin, [alice]);
    expect(verifyExportSig(bin, sig, alice.publicKeyBase64)).toBe("valid");
    expect(verifyExportSig(bin, sig, alice.publicKeyPem)).toBe("valid");
    expect(verifyExportSig(bin, sig, bob.publicKeyBase64)).toBe("invalid");
  });

  it("signs with several keys, each verifying on its own", () => {
    const bin = encodeExportBin(fileSignedBy(alice, bob));
    const sig = signExportBin(bin, [bob, alice]);
    expect(verifyExportSig(bin, sig, alice.publicKeyBase64)).toBe("valid");
    expect(verifyExportSig(bin, sig, bob.publicKeyBase64)).toBe("valid");
  });

  it("refuses keys the export.bin does not announce, or a wrong number of them", () => {
    const bin = encodeExportBin(fileSignedBy(alice));
    expectKeyFileError(
      () => signExportBin(bin, [bob]),
      /does not announce key id "311" version "v2"/,
    );
    expectKeyFileError(
      () => signExportBin(bin, [alice, bob]),
      /announces 1 signature\(s\) .* but 2 signing key\(s\)/,
    );
    expectKeyFileError(
      () => signExportBin(bin, [{ ...alice, privateKeyPem: "nonsense" }]),
      /not a PEM private key/,
    );
  });

  it("refuses keys that are not P-256", () => {
    const bin = encodeExportBin(fileSignedBy(alice));
    const p384 = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pem = (k: typeof rsa.privateKey) => k.export({ type: "pkcs8", format: "pem" }) as string;
    expectKeyFileError(
      () => signExportBin(bin, [{ ...alice, privateKeyPem: pem(p384.privateKey) }]),
      /signing key must be an ECDSA P-256 key, got curve secp384r1/,
    );
    expectKeyFileError(
      () => signExportBin(bin, [{ ...alice, privateKeyPem: pem(rsa.privateKey) }]),
      /got rsa/,
    );
    const sig = signExportBin(bin, [alice]);
    expectKeyFileError(
      () =>
        verifyExportSig(bin, sig, rsa.publicKey.export({ type: "spki", format: "pem" }) as string),
      /public key must be an ECDSA P-256 key, got rsa/,
    );
  });
});

describe("verification rules", () => {
  const bin = encodeExportBin(fileSignedBy(alice, bob));
  const signatureBy = (key: typeof alice, batchNum = 1, batchSize = 1) => ({
    signatureInfo: signatureInfoFor(key),
    batchNum,
    batchSize,
    signature: new Uint8Array(sign("sha256", bin, { key: key.privateKeyPem, dsaEncoding: "der" })),
  });

  it("require as many signatures as export.bin's signature_infos", () => {
    const one = encodeExportSig([signatureBy(alice)]);
    expect(verifyExportSig(bin, one, alice.publicKeyBase64)).toBe("invalid");
    const both = encodeExportSig([signatureBy(alice), signatureBy(bob)]);
    expect(verifyExportSig(bin, both, alice.publicKeyBase64)).toBe("valid");
  });

  it("require the batch numbers of export.sig to match export.bin's", () => {
    for (const [batchNum, batchSize] of [
      [2, 2],
      [1, 2],
      [0, 1],
    ]) {
      const sig = encodeExportSig([signatureBy(alice, batchNum, batchSize), signatureBy(bob)]);
      expect(verifyExportSig(bin, sig, alice.publicKeyBase64)).toBe("invalid");
    }
  });

  it("refuse other signature algorithms and malformed signatures", () => {
    const other = {
      ...signatureBy(alice),
      signatureInfo: { ...signatureInfoFor(alice), signatureAlgorithm: "1.2.840.10045.4.3.3" },
    };
    expect(
      verifyExportSig(bin, encodeExportSig([other, signatureBy(bob)]), alice.publicKeyBase64),
    ).toBe("invalid");
    const garbage = { ...signatureBy(alice), signature: new Uint8Array([1, 2, 3]) };
    expect(
      verifyExportSig(bin, encodeExportSig([garbage, signatureBy(bob)]), alice.publicKeyBase64),
    ).toBe("invalid");
    expect(verifyExportSig(bin, new Uint8Array([0x0a, 0xff]), alice.publicKeyBase64)).toBe(
      "invalid",
    );
    expect(ECDSA_P256_SHA256_OID).toBe("1.2.840.10045.4.3.2");
  });
});

describe("parsePublicKey", () => {
  it("reads base64 SPKI, with or without line breaks, and PEM", () => {
    expect(parsePublicKey(SAMPLE_PUBLIC_KEY).asymmetricKeyType).toBe("ec");
    expect(
      parsePublicKey(`${SAMPLE_PUBLIC_KEY.slice(0, 40)}\n${SAMPLE_PUBLIC_KEY.slice(40)}\n`)
        .asymmetricKeyType,
    ).toBe("ec");
    expect(parsePublicKey(alice.publicKeyPem).asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("says what it expected when given something else", () => {
    for (const text of [
      "",
      "not a key!",
      "AAAA",
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ]) {
      expectKeyFileError(
        () => parsePublicKey(text),
        /public key is neither PEM nor base64 SPKI/,
        "E_PUBLIC_KEY",
      );
    }
  });
});
