import type { OpenAPIHono } from "@hono/zod-openapi";
import { html } from "hono/html";

type Document = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;
const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/** A readable API page rendered on the server from the OpenAPI document: no CDN, no script. */
export function docsPage(doc: Document) {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) =>
      item[method] ? [{ path, method: method.toUpperCase(), op: item[method] }] : [],
    ),
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${doc.info.title} API</title>
        <link rel="stylesheet" href="/style.css" />
      </head>
      <body class="docs">
        <main>
          <h1>${doc.info.title} API <small>v${doc.info.version}</small></h1>
          <p>${doc.info.description ?? ""}</p>
          <p>
            Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>. The WebSocket
            protocol:
            <a href="https://github.com/edgechat/edgechat/blob/main/docs/protocol.md"
              >docs/protocol.md</a
            >.
          </p>
          ${operations.map(
            ({ path, method, op }) =>
              html`<section class="op">
                <h2>
                  <code>${method} ${path}</code
                  >${op.security?.length ? html` <span class="tag">bearer</span>` : ""}
                </h2>
                <p>${op.summary ?? ""}</p>
                ${op.description ? html`<p>${op.description}</p>` : ""}
                ${op.parameters?.length ? html`<p>Parameters: ${op.parameters.map((p) => ("name" in p ? html`<code>${p.name}</code> (${p.in}${p.required ? ", required" : ""}) ` : ""))}</p>` : ""}
                ${
                  op.requestBody
                    ? html`<details>
                        <summary>Request body</summary>
                        <pre>${JSON.stringify(op.requestBody, null, 2)}</pre>
                      </details>`
                    : ""
                }
                <details>
                  <summary>Responses</summary>
                  <pre>${JSON.stringify(op.responses ?? {}, null, 2)}</pre>
                </details>
              </section>`,
          )}
        </main>
      </body>
    </html>`;
}
