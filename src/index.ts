// biome-ignore-all assist/source/organizeImports: the exports are grouped by layer on purpose.
/**
 * proxkit's public library API: `import { … } from "proxkit"`. Every name is listed on purpose,
 * grouped by layer (core, ble, protocols, signal, exposure, radio, io); the simulator is
 * `proxkit/sim`. test/public-api.test.ts snapshots this list, so a change to it is a visible diff.
 */

// core: clocks, seeded and crypto randomness, hex, the error classes every layer throws (with
// the library options their messages name).
export { type Clock, ManualClock, systemClock } from "./core/clock.js";
export {
  CodecError,
  ConfigError,
  KeyFileError,
  ProxkitError,
  RadioError,
  StoreError,
} from "./core/errors.js";
export { bytesEqual, fromHex, toHex } from "./core/hex.js";
export type { LibraryOption, OptionMention, OptionText } from "./core/option-text.js";
export { IdTable } from "./core/id-table.js";
export { cryptoRandom, type Random, SeededRandom } from "./core/random.js";

// ble: advertising data (AD structures), the three protocols' advertisements, random addresses.
export {
  AD_TYPE,
  type AdStructure,
  type AdvertisingDataOptions,
  EXTENDED_ADVERTISING_DATA_MAX_BYTES,
  encodeAdvertisingData,
  type FlagsStructure,
  LEGACY_ADVERTISING_DATA_MAX_BYTES,
  type LocalNameStructure,
  type ManufacturerDataStructure,
  type OtherAdStructure,
  parseAdvertisingData,
  type ServiceData16Structure,
  type ServiceUuids16Structure,
  type ServiceUuids128Structure,
  type TxPowerStructure,
} from "./ble/advertising-data.js";
export {
  BLUEZONE_ADVERTISEMENT_BYTES,
  BLUEZONE_COMPANY_ID,
  BLUEZONE_SERVICE_UUID16,
  decodeBluezoneManufacturerData,
  encodeBluezoneAdvertisement,
} from "./ble/bluezone-advertisement.js";
export {
  type AdStructureJson,
  type AdvertisementJson,
  adStructureToJson,
  advertisementToJson,
  type ClassifiedAdvertisement,
  classifyAdvertisement,
  rollingIdOf,
} from "./ble/classify-advertisement.js";
export {
  DP3T_ADVERTISEMENT_BYTES,
  DP3T_SERVICE_UUID16,
  decodeDp3tServiceData,
  encodeDp3tAdvertisement,
} from "./ble/dp3t-advertisement.js";
export {
  decodeGaenServiceData,
  encodeGaenAdvertisement,
  GAEN_ADVERTISEMENT_BYTES,
  GAEN_SERVICE_DATA_BYTES,
  GAEN_SERVICE_UUID16,
} from "./ble/gaen-advertisement.js";
export {
  ADDRESS_BYTES,
  formatAddress,
  isNonResolvablePrivateAddress,
  randomNonResolvableAddress,
} from "./ble/random-address.js";

// protocols: GAEN, DP-3T and Bluezone key schedules and rolling IDs, key stores, advertisers.
export {
  BLUEZONE_ID_BYTES,
  BLUEZONE_ID_POSITIONS,
  BLUEZONE_KEY_BYTES,
  BLUEZONE_SLOT_MS,
  BLUEZONE_SLOTS_PER_DAY,
  chainBluezoneDailyKey,
  deriveBluezoneIds,
  newBluezoneDailyKey,
  nextBluezoneDailyKey,
} from "./protocols/bluezone.js";
export {
  chainDp3tDayKey,
  DP3T_EPHID_BYTES,
  DP3T_EPOCH_MS,
  DP3T_EPOCHS_PER_DAY,
  DP3T_KEY_BYTES,
  deriveEphIds,
  newDp3tDayKey,
  nextDp3tDayKey,
  shuffledEpochOrder,
} from "./protocols/dp3t.js";
export {
  cryptAem,
  cryptAems,
  decodeMetadata,
  deriveAemk,
  deriveRpi,
  deriveRpik,
  deriveRpikAndAemk,
  deriveRpis,
  encodeMetadata,
  enIntervalNumber,
  GAEN_AEM_BYTES,
  GAEN_DEFAULT_TX_POWER_DBM,
  GAEN_INTERVAL_MS,
  GAEN_KEY_BYTES,
  GAEN_METADATA_VERSION,
  GAEN_ROLLING_PERIOD,
  GAEN_RPI_BYTES,
  type GaenMetadata,
  GaenRpiBatchDeriver,
  newTek,
  rollingStartFor,
} from "./protocols/gaen.js";
export {
  DEFAULT_RETENTION_DAYS,
  KEY_STORE_FORMAT,
  KEY_STORE_VERSION,
  KeyStore,
  type KeyStoreJson,
  MAX_KEY_DAY,
  MAX_KEY_STORE_REACH_DAYS,
} from "./protocols/key-store.js";
export {
  type AdvertisementMeta,
  type DayKey,
  dayOf,
  MS_PER_DAY,
  PROTOCOLS,
  type Protocol,
  type RollingId,
  type RollingIdScheme,
  utcDate,
} from "./protocols/rolling-id-scheme.js";
export {
  type Broadcast,
  defaultRotationPolicy,
  RotatingAdvertiser,
  type RotatingAdvertiserOptions,
  type RotationPolicy,
} from "./protocols/rotating-advertiser.js";
export { bluezoneScheme, dp3tScheme, gaenScheme, schemeFor } from "./protocols/schemes.js";

// signal: sightings, the GAEN calibration table and attenuation, RSSI filters, distance estimators.
export {
  attenuationDb,
  type CalibrationLookup,
  type CalibrationMatch,
  type CalibrationRow,
  CalibrationTable,
  DEFAULT_DEVICE_CALIBRATION,
  type DeviceCalibration,
  loadCalibrationTable,
  parseCalibrationCsv,
  RSSI_MAX_DBM,
  RSSI_MIN_DBM,
} from "./signal/calibration-table.js";
export { balancedAccuracy, rocAuc, weightedAuc } from "./signal/decision-metrics.js";
export {
  type AttenuationDistanceParameters,
  CalibratedAttenuationModel,
  fitAttenuationDistance,
  fitAttenuationDistanceLad,
} from "./signal/distance/calibrated-model.js";
export {
  ChainedEstimator,
  type ChainedEstimatorOptions,
  type DistanceEstimator,
  type DistanceModel,
} from "./signal/distance/distance-estimator.js";
export {
  CLOSE_CONTACT_DISTANCE_M,
  DUAL_SLOPE_MAX_M,
  DualSlopeModel,
  type DualSlopeParameters,
  fitDualSlope,
} from "./signal/distance/dual-slope-model.js";
export { ESTIMATE_INTERVAL_MS, EstimateTicker } from "./signal/distance/estimate-ticker.js";
export {
  DEFAULT_ESTIMATOR,
  ESTIMATOR_DESCRIPTIONS,
  ESTIMATOR_NAMES,
  type EstimatorName,
  type EstimatorOptions,
  estimatorFor,
  FITTED_CALIBRATED,
  FITTED_LOG_DISTANCE,
  FITTED_PROXKIT,
  MEDIAN_WINDOW_MS,
  PROXKIT_PERCENTILE,
  PROXKIT_WINDOW_MS,
} from "./signal/distance/estimators.js";
export { FITTED_ESTIMATORS, fitEstimatorModel } from "./signal/distance/fit-estimator-model.js";
export type { FitPoint } from "./signal/distance/fit-points.js";
export {
  HERALD_COEFFICIENT_M_PER_DBM,
  HERALD_INTERCEPT_M,
  HERALD_MIN_WINDOW_SAMPLES,
  HERALD_VALID_RSSI_DBM,
  HeraldLinearModel,
} from "./signal/distance/herald-linear-model.js";
export {
  fitLogDistance,
  LOG_DISTANCE_MAX_M,
  LogDistanceModel,
  type LogDistanceParameters,
} from "./signal/distance/log-distance-model.js";
export {
  ALTBEACON_ARMA_SPEED,
  ALTBEACON_ARMA_TIME_CONSTANT_MS,
  ExponentialMovingAverage,
  type ExponentialMovingAverageOptions,
} from "./signal/filters/exponential-moving-average.js";
export {
  BULTEN_MEASUREMENT_NOISE_DB2,
  BULTEN_PROCESS_NOISE_DB2_PER_S,
  KalmanFilter,
  type KalmanFilterOptions,
} from "./signal/filters/kalman-filter.js";
export {
  HERALD_SMOOTHING_WINDOW_MS,
  MovingMedian,
  type MovingMedianOptions,
} from "./signal/filters/moving-median.js";
export {
  HERALD_MAX_RSSI_PERCENTILE,
  RunningPercentile,
  type RunningPercentileOptions,
} from "./signal/filters/running-percentile.js";
export {
  FilterChain,
  type SignalFilter,
  type TimedSample,
} from "./signal/filters/signal-filter.js";
export { TimeWindow } from "./signal/filters/time-window.js";
export {
  ALTBEACON_SAMPLE_EXPIRATION_MS,
  TrimmedMean,
  type TrimmedMeanOptions,
} from "./signal/filters/trimmed-mean.js";
export {
  type DistanceState,
  distanceFromState,
  NHS_UKF_PARAMETERS,
  UnscentedKalmanFilter,
  type UnscentedKalmanParameters,
  unscentedKalmanSmooth,
} from "./signal/filters/unscented-kalman-filter.js";
export { ID_FIELD, parseSighting, type Sighting, sightingToJson } from "./signal/sighting.js";

// exposure: key matching, exposure windows, risk presets and scoring, GAEN key files.
export {
  type DayKeyMatch,
  matchDayKeys,
  type PublishedDayKey,
} from "./exposure/chained-key-matcher.js";
export {
  CONTINUOUS_SCAN_PERIOD_MS,
  type ExposureWindow,
  ExposureWindowBuilder,
  type ExposureWindowBuilderOptions,
  parseScanPeriodS,
  SCAN_GAP_MS,
  SCAN_PERIODS_S,
  type ScanInstance,
  UNKNOWN_SECONDS_SINCE_LAST_SCAN,
  WINDOW_MAX_MS,
  type WindowScans,
  type WindowScansListener,
} from "./exposure/exposure-window-builder.js";
export {
  GaenMatcher,
  type GaenSightingColumns,
  type KeyMatch,
  MATCH_TOLERANCE_INTERVALS,
  type MatchCounts,
  MAX_TX_POWER_DBM,
  MIN_TX_POWER_DBM,
  newMatchCounts,
  type PublishedKey,
  toGaenColumns,
} from "./exposure/gaen-matcher.js";
export {
  DEFAULT_MAX_KEY_FILE_BYTES,
  DIAGNOSIS_KEY_PROTO_NAMES,
  type DiagnosisKey,
  decodeExportBin,
  decodeExportSig,
  diagnosisKeyProblem,
  ECDSA_P256_SHA256_OID,
  EXPORT_BIN_HEADER,
  EXPORT_BIN_NAME,
  EXPORT_SIG_NAME,
  type ExportKeyFileOptions,
  encodeExportBin,
  encodeExportSig,
  exportKeyFile,
  exportProto,
  type KeyFile,
  type KeyFileParts,
  MAX_BATCH_SIZE,
  MAX_SIGNATURE_INFOS,
  parseDiagnosisKeysJsonl,
  parsePublicKey,
  REPORT_TYPES,
  type SignatureInfo,
  type SignatureStatus,
  type SigningKey,
  signatureInfoFor,
  signExportBin,
  type TekSignature,
  unzipKeyFile,
  verifyExportSig,
  zipKeyFile,
} from "./exposure/key-file/index.js";
export {
  type AttenuationEvent,
  exposureWindowsOf,
  type MatchedWindow,
  type MatchOptions,
  type MatchResult,
  matchExposures,
} from "./exposure/match-exposures.js";
export {
  allPresets,
  PRESET_NAMES,
  presetFor,
  type RiskModel,
  type RiskPreset,
  validatePreset,
} from "./exposure/risk-preset.js";
export {
  type AttenuationSegment,
  closeProbability,
  type DailyResult,
  type ExposureScore,
  MAX_SCAN_CREDIT_S,
  type PresetDecision,
  presetDecision,
  type ScoredWindow,
  scanCreditsS,
  scoreExposure,
  scoreWindowColumns,
  type WindowColumns,
  windowToScored,
} from "./exposure/score-exposure.js";
export { SightingIngest, type SightingIngestOptions } from "./exposure/sighting-ingest.js";

// radio: the radio contract, back-ends by name, the simulated radio, btsnoop capture replay.
export type { HciRadioOptions } from "./radio/hci/hci-settings.js";
export {
  openRadio,
  RADIO_BACKENDS,
  type RadioBackend,
  type RadioContractPart,
  type RadioOptions,
  type RadioVariant,
  radioBackend,
  radioBackends,
} from "./radio/radio-backends.js";
export type {
  Advertiser,
  AdvertiserEvents,
  AdvertiserOptions,
  Radio,
  RadioSighting,
  RadioState,
  Scanner,
  ScannerEvents,
  ScannerOptions,
} from "./radio/radio.js";
export {
  BtsnoopDecoder,
  type BtsnoopRecord,
  DATALINK_H4,
  DATALINK_HCI,
  DATALINK_MONITOR,
  readBtsnoopFileSync,
} from "./radio/replay/btsnoop.js";
export { BtsnoopWriter, type WritableDatalink } from "./radio/replay/btsnoop-writer.js";
export {
  type CaptureCounts,
  type CaptureSighting,
  CaptureSightingDecoder,
  captureTimeWarning,
  readCaptureSightingsSync,
} from "./radio/replay/capture-sightings.js";
export {
  type AdvertisingReport,
  encodeAdvertisingReportEvent,
  encodeExtendedAdvertisingReportEvent,
  type ReportInput,
} from "./radio/replay/hci-events.js";
export { ReplayRadio, type ReplayRadioOptions } from "./radio/replay/replay-radio.js";
export { type RssiModel, SimMedium, type SimMediumOptions } from "./radio/sim/sim-medium.js";
export { SimRadio, type SimRadioOptions } from "./radio/sim/sim-radio.js";
export { VirtualScheduler } from "./radio/sim/virtual-scheduler.js";

// io: files as the CLI reads them (published keys as zip, export.bin or JSON lines; sightings).
export { type PublishedKeys, readPublishedKeys } from "./io/published-keys-file.js";
export { readSightingsFile } from "./io/sightings-file.js";
