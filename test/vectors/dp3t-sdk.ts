/**
 * DP-3T SDK test vector (low-cost design, pre-GAEN SDK), as given in docs/protocols.md (Test
 * vectors and real files): EphID 0 of the day key below.
 */
export const DP3T_SDK_VECTOR = {
  dayKeyBase64: "kII4qPNuq5STANO8KUs7+/JiGhiSfJZYrL58eXpDzhk=",
  ephId0Base64: "930QsNuTdtYUPqN2T5Cf1Q==",
  ephId0: "f77d10b0db9376d6143ea3764f909fd5",
} as const;
