/**
 * The arithmetic behind the choice of our default detector (`scripts/choose-detector.ts`, issue
 * 12 item 4): the rows of `scripts/detector-study.ts` grouped by channel and scenario, each
 * candidate's share of what was achievable, and the choice among candidates by the mean (or the
 * worst) over channels of the mean share over scenarios.
 */

export interface StudyRow {
  scenario: string;
  channel: string;
  seed: number;
  closeContacts: number;
  ceilingScans: number | null;
  f1: Record<string, number>;
}

export const SHARE_TARGET = 0.95;
export const GAP_TARGET = 0.02;

export const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** F1 over what was achievable on the row: ceiling-scans, or on a real recording the best rule's F1. */
export function shareOf(row: StudyRow, name: string, bestReal: number): number {
  const reach = row.ceilingScans ?? bestReal;
  return reach === 0 ? 1 : row.f1[name] / reach;
}

export class Study {
  /** channel → scenario → rows. */
  readonly groups = new Map<string, Map<string, StudyRow[]>>();
  private readonly best = new Map<StudyRow, number>();

  constructor(
    rows: readonly StudyRow[],
    readonly aggregate: "mean" | "worst" = "mean",
  ) {
    for (const r of rows) {
      let byScenario = this.groups.get(r.channel);
      if (!byScenario) {
        byScenario = new Map();
        this.groups.set(r.channel, byScenario);
      }
      const list = byScenario.get(r.scenario);
      if (list) list.push(r);
      else byScenario.set(r.scenario, [r]);
      this.best.set(r, Math.max(...Object.values(r.f1)));
    }
  }

  share(row: StudyRow, name: string): number {
    return shareOf(row, name, this.best.get(row)!);
  }

  /** Per channel of `on`, the candidate's mean share over the scenarios kept by `keep`. */
  channelShares(
    name: string,
    keep: (scenario: string) => boolean,
    on: readonly string[],
  ): Map<string, number> {
    const out = new Map<string, number>();
    for (const [channel, byScenario] of this.groups) {
      if (!on.includes(channel)) continue;
      const shares = [...byScenario]
        .filter(([scenario]) => keep(scenario))
        .map(([, rows]) => mean(rows.map((r) => this.share(r, name))));
      if (shares.length > 0) out.set(channel, mean(shares));
    }
    return out;
  }

  /**
   * The candidate with the highest mean over the channels of `on` (the worst channel breaking
   * ties), or with `aggregate` "worst" the reverse; scenarios kept by `keep` only.
   */
  choose(
    candidates: readonly string[],
    on: readonly string[],
    keep: (scenario: string) => boolean = () => true,
  ) {
    let best = { name: candidates[0], worst: -1, mean: -1, channels: new Map<string, number>() };
    for (const name of candidates) {
      const channels = this.channelShares(name, keep, on);
      const worst = Math.min(...channels.values());
      const m = mean([...channels.values()]);
      // "mean": the mean over channels decides, the worst breaks ties; "worst": the reverse.
      const [key, tie] = this.aggregate === "mean" ? [m, worst] : [worst, m];
      const [bestKey, bestTie] =
        this.aggregate === "mean" ? [best.mean, best.worst] : [best.worst, best.mean];
      if (key > bestKey + 1e-9 || (Math.abs(key - bestKey) <= 1e-9 && tie > bestTie))
        best = { name, worst, mean: m, channels };
    }
    return best;
  }
}
