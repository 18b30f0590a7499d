/**
 * Decoding a Bluetooth capture and matching published keys.
 *
 * A researcher has a btsnoop capture of a phone or a scanner (`btmon -w`, Android's HCI snoop
 * log) and a key server's download (a zip holding export.bin and export.sig). This script
 * decodes the capture's advertising reports into sightings, verifies and decodes the key file,
 * and matches the two with the GAEN matcher, printing each exposure window and the verdict of
 * the German v2 risk rule (`cwa-v2`).
 *
 * So that it runs anywhere, the script first writes both inputs into a temporary folder: a
 * capture in which Alice's phone is heard at about 1.5 m for 25 minutes and Bob's, far away,
 * for 5 minutes; and a signed key file in which Alice and Carol (never heard) published their
 * keys. Give your own files instead: `… <capture.btsnoop> <export.zip>` (its signature is then
 * left unchecked unless you add the server's public key, PEM, as a third argument).
 *
 * Run it from the repository: `npm run build && node dist/examples/match-capture.js` (the build
 * compiles examples/ too; "proxkit" resolves to the package itself through its `exports`).
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BtsnoopWriter,
  type CaptureSighting,
  CONTINUOUS_SCAN_PERIOD_MS,
  cryptAem,
  DATALINK_H4,
  decodeExportBin,
  deriveRpi,
  deriveRpikAndAemk,
  encodeAdvertisingReportEvent,
  encodeGaenAdvertisement,
  encodeMetadata,
  enIntervalNumber,
  exportKeyFile,
  GAEN_ROLLING_PERIOD,
  matchExposures,
  newTek,
  presetFor,
  randomNonResolvableAddress,
  readCaptureSightingsSync,
  rollingStartFor,
  SeededRandom,
  unzipKeyFile,
  verifyExportSig,
  zipKeyFile,
} from "proxkit";

const ENCOUNTER_MS = Date.UTC(2025, 10, 20, 12, 0); // 2025-11-20 12:00 UTC

/** Writes a capture and a signed key file as a phone and a key server would have made them. */
function writeInputs(dir: string): { capture: string; keys: string; publicKeyPem: string } {
  const random = new SeededRandom(2025);
  const [alice, bob, carol] = [newTek(random), newTek(random), newTek(random)];

  // The capture: one advertising report every 4 s from each phone in range, as a scanner logs.
  const capture = join(dir, "capture.btsnoop");
  const writer = new BtsnoopWriter(capture, DATALINK_H4);
  const heard = [
    { tek: alice, fromMin: 0, toMin: 25, rssiDbm: -72 }, // about 1.5 m
    { tek: bob, fromMin: 10, toMin: 15, rssiDbm: -95 }, // across the room
  ];
  for (let t = ENCOUNTER_MS; t < ENCOUNTER_MS + 25 * 60_000; t += 4_000) {
    for (const phone of heard) {
      if (t < ENCOUNTER_MS + phone.fromMin * 60_000 || t >= ENCOUNTER_MS + phone.toMin * 60_000)
        continue;
      const { rpik, aemk } = deriveRpikAndAemk(phone.tek);
      const rpi = deriveRpi(rpik, enIntervalNumber(t));
      const aem = cryptAem(aemk, rpi, encodeMetadata(-24)); // TX power -24 dBm, encrypted
      const rssiDbm = phone.rssiDbm + Math.round((random.float() - 0.5) * 6);
      writer.event(
        t,
        encodeAdvertisingReportEvent([
          {
            address: randomNonResolvableAddress(random),
            rssiDbm,
            data: encodeGaenAdvertisement(rpi, aem),
          },
        ]),
      );
    }
  }
  writer.close();

  // The key server's download: Alice and Carol published the key of that day.
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const day = rollingStartFor(enIntervalNumber(ENCOUNTER_MS));
  const { bin, sig } = exportKeyFile({
    keys: [alice, carol].map((keyData) => ({
      keyData,
      rollingStartIntervalNumber: day,
      rollingPeriod: GAEN_ROLLING_PERIOD,
    })),
    region: "XX",
    startTimestampS: ENCOUNTER_MS / 1000,
    endTimestampS: ENCOUNTER_MS / 1000 + 86_400,
    signingKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    keyId: "999",
    keyVersion: "v1",
  });
  const keys = join(dir, "export.zip");
  writeFileSync(keys, zipKeyFile({ bin, sig }));
  return {
    capture,
    keys,
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

const dir = mkdtempSync(join(tmpdir(), "proxkit-example-"));
try {
  const inputs =
    process.argv.length >= 4
      ? {
          capture: process.argv[2],
          keys: process.argv[3],
          publicKeyPem: process.argv[4] && readFileSync(process.argv[4], "utf8"),
        }
      : writeInputs(dir);

  // 1. The capture: every GAEN, DP-3T and Bluezone advertisement heard, as sightings.
  const sightings: CaptureSighting[] = [];
  const counts = readCaptureSightingsSync(inputs.capture, (s) => sightings.push(s));
  console.log(
    `capture: ${counts.records} records, ${counts.reports} advertising reports, ${counts.sightings} sightings`,
  );

  // 2. The key file: check its signature, then decode export.bin.
  const { bin, sig } = unzipKeyFile(readFileSync(inputs.keys), { source: inputs.keys });
  const signature = verifyExportSig(bin, sig, inputs.publicKeyPem || undefined);
  const file = decodeExportBin(bin);
  console.log(
    `key file: ${file.keys.length} published keys (region ${file.region}), signature ${signature}`,
  );

  // 3. Match: which sightings came from published keys, as exposure windows, scored.
  const result = matchExposures({ gaen: file.keys, dayKeys: [] }, sightings, {
    preset: presetFor("cwa-v2"),
    // A scanner logging continuously: each minute is a scan (phones' duty-cycled scans need not).
    maxScanInstanceMs: CONTINUOUS_SCAN_PERIOD_MS,
  });
  for (const w of result.windows) {
    const scans = w.scanInstances;
    const typical = scans.reduce((sum, s) => sum + s.typicalAttenuationDb, 0) / scans.length;
    console.log(
      `exposure window: key ${w.key.slice(0, 8)}… from ${new Date(w.start * 1000).toISOString()}, ${scans.length} scans, typical attenuation ${typical.toFixed(1)} dB`,
    );
  }
  for (const d of result.dailySummaries)
    console.log(
      `day ${d.day}: weighted minutes ${(d.weightedDurationSum / 60).toFixed(1)}, notified ${d.notified}`,
    );
  console.log(
    `matched sightings: ${result.counts.accepted} of ${sightings.length}; notified (${result.preset}): ${result.notified}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
