/**
 * Upload throughput: files of random bytes (kind `file`) through the SDK's `upload` (parts of
 * 5 MiB, one at a time, to the worker and R2 under miniflare), each size `runs` times one after
 * another by one person, then `runs` rounds of `concurrency` people uploading one file each at
 * the same moment; a fresh file every time. Then the largest files read back (GET attachment).
 * Uploads are posted after each measured window, so that none counts against the 20 unposted
 * uploads a person may hold in a room.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Attachment } from "../../src/client/index.ts";
import { LIMITS_ATTACHMENTS } from "../../src/protocol/index.ts";
import { cpuWindow } from "../integrations/common.ts";
import type { RunningServer } from "../servers.ts";
import { now } from "../util.ts";
import type { Person } from "./people.ts";
import { addCpu, sizeLabel, type CpuSpent, type UploadTiming } from "./stats.ts";

export type ThroughputOptions = {
  sizes: readonly number[];
  runs: number;
  concurrency: number;
  /** Read back the sequential uploads of this size (the largest by default). */
  readSize: number;
};

export type Uploaded = UploadTiming & { attachmentId: string; sha256: string };

export type Round = { wallMs: number; uploads: Uploaded[] };

export type ReadBack = { bytes: number; ms: number; same: boolean };

export type SizeResult = {
  bytes: number;
  sequential: Uploaded[];
  sequentialCpu: CpuSpent;
  rounds: Round[];
  concurrentCpu: CpuSpent;
  reads: ReadBack[];
};

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

type Fresh = { bytes: Uint8Array<ArrayBuffer>; sha256: string };

/** Random bytes and their hash, made before the clock starts (hashing 50 MiB takes a CPU). */
function freshFile(size: number): Fresh {
  const bytes: Uint8Array<ArrayBuffer> = randomBytes(size);
  return { bytes, sha256: sha256(bytes) };
}

/** One upload of fresh random bytes, with the time of each part's receipt. */
async function uploadOnce(person: Person, room: string, file: Fresh): Promise<Uploaded> {
  const { bytes } = file;
  const partsAt: number[] = [];
  const startedAt = now();
  const attachment: Attachment = await person.api.upload(room, new Blob([bytes]), {
    kind: "file",
    name: `bench-${bytes.length}.bin`,
    onProgress: () => partsAt.push(now()),
  });
  const endedAt = now();
  if (attachment.size !== bytes.length)
    throw new Error(`uploaded ${bytes.length} bytes, the attachment says ${attachment.size}`);
  return {
    bytes: bytes.length,
    startedAt,
    partsAt,
    endedAt,
    attachmentId: attachment.id,
    sha256: file.sha256,
  };
}

/** Posts the uploads (10 to a message) so that they no longer count as unposted. */
async function postAll(person: Person, ids: readonly string[]): Promise<void> {
  const perMessage = LIMITS_ATTACHMENTS.perMessage;
  for (let i = 0; i < ids.length; i += perMessage)
    await person.conn.post("", { attachments: ids.slice(i, i + perMessage) });
}

async function readBack(person: Person, room: string, upload: Uploaded): Promise<ReadBack> {
  const started = now();
  const blob = await person.api.uploads(room).fetch(upload.attachmentId);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const ms = now() - started;
  return { bytes: bytes.length, ms, same: sha256(bytes) === upload.sha256 };
}

export async function measureThroughput(
  server: RunningServer,
  people: readonly Person[],
  room: string,
  options: ThroughputOptions,
  log: (line: string) => void,
): Promise<SizeResult[]> {
  const results: SizeResult[] = [];
  const [first] = people;
  if (!first || people.length < options.concurrency)
    throw new Error(`throughput needs ${options.concurrency} people`);
  for (const bytes of options.sizes) {
    const label = sizeLabel(bytes);
    const sequential: Uploaded[] = [];
    const windows: CpuSpent[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const data = freshFile(bytes);
      const end = cpuWindow(server);
      sequential.push(await uploadOnce(first, room, data));
      windows.push(end());
      const u = sequential.at(-1)!;
      log(`  ${label} #${run}: ${(u.endedAt - u.startedAt).toFixed(0)} ms`);
    }
    await postAll(
      first,
      sequential.map((u) => u.attachmentId),
    );

    const rounds: Round[] = [];
    const concurrentWindows: CpuSpent[] = [];
    for (let run = 1; run <= options.runs; run++) {
      const data = people.slice(0, options.concurrency).map(() => freshFile(bytes));
      const end = cpuWindow(server);
      const started = now();
      const uploads = await Promise.all(data.map((d, i) => uploadOnce(people[i]!, room, d)));
      const wallMs = now() - started;
      concurrentWindows.push(end());
      rounds.push({ wallMs, uploads });
      log(`  ${label} ×${options.concurrency} #${run}: ${wallMs.toFixed(0)} ms`);
    }
    for (const [i, p] of people.slice(0, options.concurrency).entries())
      await postAll(
        p,
        rounds.map((r) => r.uploads[i]!.attachmentId),
      );

    const reads: ReadBack[] = [];
    if (bytes === options.readSize)
      for (const upload of sequential) {
        reads.push(await readBack(first, room, upload));
        log(`  ${label} read back: ${reads.at(-1)!.ms.toFixed(0)} ms`);
      }
    results.push({
      bytes,
      sequential,
      sequentialCpu: addCpu(windows),
      rounds,
      concurrentCpu: addCpu(concurrentWindows),
      reads,
    });
  }
  return results;
}
