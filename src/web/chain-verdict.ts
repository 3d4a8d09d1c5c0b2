import type { ChainReport } from "../client/index.ts";

/** A verdict in words: what an owner or admin reads after "Verify log". */
export function chainVerdictText(report: ChainReport): string {
  if (!report.ok) return `Broken at event ${report.seq}: ${report.problem}`;
  const anchored =
    report.anchoredSeq === undefined
      ? ""
      : `, anchored outside the room up to ${report.anchoredSeq}`;
  return `Intact: ${report.lastSeq} events, head ${report.head.slice(0, 12)}…${anchored}`;
}
