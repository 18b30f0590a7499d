/**
 * The Linux HCI radio back-end: noble scans, bleno advertises, both loaded only when a part
 * starts (see `ble-library.ts`). noble resets the controller when it starts, which clears
 * bleno's advertising; the radio puts the advertisement back when the scanner comes up.
 */
import type { Radio } from "../radio.js";
import { HciAdvertiser } from "./hci-advertiser.js";
import { HciScanner } from "./hci-scanner.js";
import { type HciRadioOptions, hciSettings } from "./hci-settings.js";

export type { HciRadioOptions } from "./hci-settings.js";

export class HciRadio implements Radio {
  readonly backend = "hci";
  readonly advertiser: HciAdvertiser;
  readonly scanner: HciScanner;

  constructor(options: HciRadioOptions = {}) {
    const settings = hciSettings(options);
    this.advertiser = new HciAdvertiser(settings);
    this.scanner = new HciScanner(settings);
    this.scanner.on("state", (state) => {
      if (state === "running") this.advertiser.reapply();
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.advertiser.stop(), this.scanner.stop()]);
  }
}
