/**
 * Blob URLs of a room's attachments: each fetched once with the bearer token (a plain
 * `<img src=/api/…>` cannot send it) and kept while the room is open; revoked when it closes.
 * A failed fetch is forgotten, so the next look tries again.
 */
export class BlobUrls {
  readonly #urls = new Map<string, Promise<string>>();
  readonly #fetch: (attachmentId: string) => Promise<Blob>;

  constructor(fetch: (attachmentId: string) => Promise<Blob>) {
    this.#fetch = fetch;
  }

  readonly urlOf = (attachmentId: string): Promise<string> => {
    let url = this.#urls.get(attachmentId);
    if (!url) {
      url = this.#fetch(attachmentId).then((blob) => URL.createObjectURL(blob));
      url.catch(() => this.#urls.delete(attachmentId));
      this.#urls.set(attachmentId, url);
    }
    return url;
  };

  dispose(): void {
    for (const url of this.#urls.values()) void url.then(URL.revokeObjectURL, () => undefined);
    this.#urls.clear();
  }
}
