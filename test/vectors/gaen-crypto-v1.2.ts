/**
 * Official test vector of the Exposure Notification Cryptography Specification v1.2
 * (Google/Apple, April 2020), as given in docs/protocols.md, Test vectors and real files.
 */
export const GAEN_CRYPTO_V1_2 = {
  tek: "75c734c6dd1a782de7a965da5eb93125",
  intervalNumber: 2642976,
  unixSeconds: 1585785600,
  rpik: "185ad91db69ec7dd048960f1f3ba6175",
  aemk: "d57c46af7a1d83965b9bed8bd152936a",
  metadata: "40080000",
  txPowerDbm: 8,
  intervals: [
    { intervalNumber: 2642976, rpi: "8be6cd371c5c891604bfbe49df845096", aem: "72033874" },
    { intervalNumber: 2642977, rpi: "3c9a1de5dd6b02afa7fded7b570b3e56", aem: "c29211b1" },
  ],
  advertisement: "02011a03036ffd17166ffd8be6cd371c5c891604bfbe49df84509672033874",
} as const;
