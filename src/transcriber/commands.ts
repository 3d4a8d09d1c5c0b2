import { join } from "node:path";

/** Where Debian's pocketsphinx-en-us puts the US English model (issue17-facts §1). */
export const DEBIAN_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us";

/** The model's three parts under its folder: acoustic model, language model, dictionary. */
export function modelPaths(modelDir: string): { hmm: string; lm: string; dict: string } {
  return {
    hmm: join(modelDir, "en-us"),
    lm: join(modelDir, "en-us.lm.bin"),
    dict: join(modelDir, "cmudict-en-us.dict"),
  };
}

/** pocketsphinx reads 16 kHz mono signed 16-bit samples: 32000 bytes a second. */
export const PCM_BYTES_PER_SECOND = 16_000 * 2;

/**
 * ffmpeg: whatever audio arrives on stdin (WebM, Ogg, MP4, MP3, WAV: ffmpeg probes it) to raw
 * 16 kHz mono s16le in `outFile`. `-t` stops decoding just past the longest accepted recording,
 * so a small file that decodes to hours of audio never fills the disk.
 */
export function ffmpegArgs(outFile: string, maxSeconds: number): string[] {
  return [
    "-hide_banner",
    "-loglevel",
    "error",
    "-nostdin",
    "-i",
    "pipe:0",
    "-t",
    String(maxSeconds + 1),
    "-vn",
    "-ac",
    "1",
    "-ar",
    "16000",
    "-f",
    "s16le",
    "-y",
    outFile,
  ];
}

/**
 * pocketsphinx_batch over one raw utterance, `<dir>/<utterance>.raw`, named in `ctlFile`. Batch
 * mode normalises over the whole file (CMN), which is why it is used and not
 * pocketsphinx_continuous: 27 % against 49 % WER on the same audio (issue17-facts §1c). The
 * hypothesis and its word segments go to files (on stdout the hypothesis came out garbled), the
 * log to /dev/null.
 */
export function sphinxArgs(job: {
  dir: string;
  ctlFile: string;
  hypFile: string;
  segFile: string;
  modelDir: string;
}): string[] {
  const model = modelPaths(job.modelDir);
  return [
    "-adcin",
    "yes",
    "-cepdir",
    job.dir,
    "-cepext",
    ".raw",
    "-ctl",
    job.ctlFile,
    "-hyp",
    job.hypFile,
    "-hypseg",
    job.segFile,
    "-hmm",
    model.hmm,
    "-lm",
    model.lm,
    "-dict",
    model.dict,
    "-logfn",
    "/dev/null",
  ];
}
