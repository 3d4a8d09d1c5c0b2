import { LIMITS_ATTACHMENTS } from "../../client/index.ts";

/**
 * A recording's waveform: the loudest sample of each of `count` equal stretches, over every
 * channel, scaled so that the loudest stretch is 255 (a quiet recording still shows its shape)
 * and silence is 0. Pure, for the recorder (computed once, sent with the upload) and its tests.
 * @example peaks([new Float32Array([0, 0.5, -1, 0.25])], 2) // [128, 255]
 */
export function peaks(
  channels: readonly Float32Array[],
  count: number = LIMITS_ATTACHMENTS.waveformPeaks,
): number[] {
  const length = Math.min(...channels.map((channel) => channel.length));
  if (!channels.length || !Number.isFinite(length) || length === 0) return [0];
  const buckets = Math.max(1, Math.min(count, LIMITS_ATTACHMENTS.waveformPeaks, length));
  const raw: number[] = [];
  for (let bucket = 0; bucket < buckets; bucket += 1) {
    const start = Math.floor((bucket * length) / buckets);
    const end = Math.floor(((bucket + 1) * length) / buckets);
    let loudest = 0;
    for (const channel of channels)
      for (let i = start; i < end; i += 1) {
        const sample = Math.abs(channel[i]!);
        if (sample > loudest) loudest = sample;
      }
    raw.push(loudest);
  }
  const top = Math.max(...raw);
  if (top === 0) return raw.map(() => 0);
  return raw.map((value) => Math.min(255, Math.round((value / top) * 255)));
}

/** How many peaks a recording of `durationMs` gets: 64 for short ones, up to 128 (one per 0.25 s). */
export function peakCount(durationMs: number): number {
  return Math.max(64, Math.min(LIMITS_ATTACHMENTS.waveformPeaks, Math.round(durationMs / 250)));
}

/** The bar heights (0..1) to draw for `wave` squeezed or stretched to `bars` bars. */
export function barsOf(wave: readonly number[], bars: number): number[] {
  if (!wave.length || bars <= 0) return [];
  return Array.from({ length: bars }, (_, bar) => {
    const at = Math.min(wave.length - 1, Math.floor((bar * wave.length) / bars));
    // A floor so that silence still shows a line to seek along.
    return Math.max(0.06, wave[at]! / 255);
  });
}
