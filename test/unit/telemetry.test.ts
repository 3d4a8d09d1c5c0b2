/**
 * The pure parts of tracing and logs (src/telemetry/, src/config.ts): the settings under their
 * OTel names, the samplers they name, W3C trace context in and out, request ids, the log's
 * redaction; and the exporter against a real local HTTP server.
 */
import { createServer } from "node:http";
import { trace, TraceFlags } from "@opentelemetry/api";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseOtlpHeaders, telemetryConfig } from "../../src/config.ts";
import { tracesUrl } from "../../src/telemetry/exporter.ts";
import {
  enabled,
  errorFields,
  formatLine,
  maskSecrets,
  redact,
  REDACTED,
} from "../../src/telemetry/log.ts";
import { requestIdOf } from "../../src/telemetry/middleware.ts";
import {
  contextOf,
  samplerOf,
  scopeFrom,
  startSpan,
  traceparentIn,
  Tracing,
} from "../../src/telemetry/tracing.ts";
import { decodeTraceRequest } from "../support/otlp-receiver.ts";

afterEach(() => vi.restoreAllMocks());

describe("settings", () => {
  it("defaults: tracing off, parentbased_traceidratio at 1.0, service edgechat, level info", () => {
    expect(telemetryConfig({})).toEqual({
      OTEL_EXPORTER_OTLP_HEADERS: {},
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: 1,
      OTEL_SERVICE_NAME: "edgechat",
      LOG_LEVEL: "info",
    });
  });

  it("reads every setting from its text", () => {
    const config = telemetryConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Basic%20abc, x-team = chat",
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_SERVICE_NAME: "chat-eu",
      LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318",
      OTEL_EXPORTER_OTLP_HEADERS: { authorization: "Basic abc", "x-team": "chat" },
      OTEL_TRACES_SAMPLER: "traceidratio",
      OTEL_TRACES_SAMPLER_ARG: 0.25,
      LOG_LEVEL: "warn",
    });
  });

  it.each([
    ["a sampler of no such name", { OTEL_TRACES_SAMPLER: "sometimes" }],
    ["a ratio above 1", { OTEL_TRACES_SAMPLER_ARG: "1.5" }],
    ["a ratio that is not a number", { OTEL_TRACES_SAMPLER_ARG: "half" }],
    ["an endpoint that is not http(s)", { OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector" }],
    ["a header without =", { OTEL_EXPORTER_OTLP_HEADERS: "novalue" }],
    ["a level of no such name", { LOG_LEVEL: "verbose" }],
  ])("%s falls back to the defaults: tracing off", (_, env) => {
    expect(telemetryConfig(env).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(telemetryConfig(env).OTEL_TRACES_SAMPLER).toBe("parentbased_traceidratio");
  });

  it("parses OTEL_EXPORTER_OTLP_HEADERS as the spec writes it", () => {
    expect(parseOtlpHeaders("")).toEqual({});
    expect(parseOtlpHeaders("a=1,b=x%3Dy,,c=")).toEqual({ a: "1", b: "x=y", c: "" });
    expect(parseOtlpHeaders("bad header=1")).toBeUndefined();
    expect(parseOtlpHeaders("a=%E0%A4%A")).toBeUndefined();
  });
});

describe("samplers", () => {
  const arg = 0.5;
  it.each([
    ["always_on", "AlwaysOnSampler"],
    ["always_off", "AlwaysOffSampler"],
    ["traceidratio", "TraceIdRatioBased{0.5}"],
    ["parentbased_always_on", "ParentBased{root=AlwaysOnSampler"],
    ["parentbased_always_off", "ParentBased{root=AlwaysOffSampler"],
    ["parentbased_traceidratio", "ParentBased{root=TraceIdRatioBased{0.5}"],
  ] as const)("%s is %s", (name, described) => {
    const sampler = samplerOf({ OTEL_TRACES_SAMPLER: name, OTEL_TRACES_SAMPLER_ARG: arg });
    expect(sampler.toString()).toContain(described);
  });
});

describe("W3C trace context", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentId = "00f067aa0ba902b7";

  it("reads a valid traceparent, and ignores an invalid one (a new trace)", () => {
    const span = trace.getSpanContext(contextOf(`00-${traceId}-${parentId}-01`, "k=v"));
    expect(span).toMatchObject({ traceId, spanId: parentId, traceFlags: TraceFlags.SAMPLED });
    expect(span?.isRemote).toBe(true);
    expect(span?.traceState?.get("k")).toBe("v");
    for (const bad of [
      undefined,
      "",
      `00-${"0".repeat(32)}-${parentId}-01`,
      `00-${traceId}-${"0".repeat(16)}-01`,
      `ff-${traceId}-${parentId}-01`,
      `00-${traceId.toUpperCase()}-${parentId}-01`,
      `00-${traceId}-${parentId}`,
    ])
      expect(trace.getSpanContext(contextOf(bad)), String(bad)).toBeUndefined();
  });

  it("hands on a child: the same trace, the new span as the parent, the sampled flag", () => {
    const tracing = new Tracing({
      ...telemetryConfig({}),
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
    });
    const root = scopeFrom(tracing, `00-${traceId}-${parentId}-01`)!;
    const { span, scope } = startSpan(root, "child");
    expect(traceparentIn(scope)).toBe(`00-${traceId}-${span.spanContext().spanId}-01`);
    expect(traceparentIn(undefined)).toBeUndefined();
    // An unsampled caller: ParentBased keeps it unsampled, the flag says so downstream.
    const unsampled = startSpan(scopeFrom(tracing, `00-${traceId}-${parentId}-00`)!, "child");
    expect(unsampled.span.isRecording()).toBe(false);
    expect(traceparentIn(unsampled.scope)).toMatch(/-00$/);
  });
});

describe("request ids", () => {
  it("keeps a well-formed incoming id, replaces anything else", () => {
    expect(requestIdOf("req-123_abc.def:9")).toBe("req-123_abc.def:9");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const bad of [undefined, "", "two words", "x".repeat(129), 'quote"s', "new\nline"])
      expect(requestIdOf(bad)).toMatch(uuid);
  });
});

describe("log lines", () => {
  it("drop fields that name a secret or what users wrote, at any depth", () => {
    expect(
      redact({
        password: "hunter2",
        token: "t",
        refreshToken: "r",
        authorization: "Bearer x",
        Cookie: "c",
        apiKey: "k",
        api_key: "k",
        text: "hello",
        topic: "t",
        nested: { secret: "s", room: "lobby" },
        room: "lobby",
        status: 401,
      }),
    ).toEqual({
      password: REDACTED,
      token: REDACTED,
      refreshToken: REDACTED,
      authorization: REDACTED,
      Cookie: REDACTED,
      apiKey: REDACTED,
      api_key: REDACTED,
      text: REDACTED,
      topic: REDACTED,
      nested: { secret: REDACTED, room: "lobby" },
      room: "lobby",
      status: 401,
    });
  });

  it("mask credential-shaped text wherever it appears", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl";
    const key = "ecsk_0123abcd_s3cr3tS3cr3t";
    expect(maskSecrets(`token ${jwt} refused`)).toBe(`token ${REDACTED} refused`);
    expect(maskSecrets(`key ${key}`)).toBe(`key ${REDACTED}`);
    expect(maskSecrets("Authorization: Bearer abc.def")).toBe(`Authorization: ${REDACTED}`);
    expect(maskSecrets("postgres://app:pa55word@db:5432/chat")).toBe(
      `postgres://app:${REDACTED}@db:5432/chat`,
    );
    expect(maskSecrets("nothing secret here")).toBe("nothing secret here");
  });

  it("describe an error by name, message and stack, masked", () => {
    const error = new TypeError(`bad key ecsk_ab_cd`, { cause: new Error("deeper") });
    const fields = errorFields(error);
    expect(fields).toMatchObject({
      name: "TypeError",
      message: `bad key ${REDACTED}`,
      cause: "deeper",
    });
    expect(String(fields.stack)).toContain("TypeError");
    expect(String(fields.stack)).not.toContain("ecsk_ab_cd");
    expect(errorFields("plain")).toEqual({ name: "NonError", message: "plain" });
  });

  it("are one JSON object: level, time and msg first", () => {
    const line = formatLine("warn", "flush failed", { room: "lobby", password: "x" }, new Date(0));
    expect(line).toBe(
      `{"level":"warn","time":"1970-01-01T00:00:00.000Z","msg":"flush failed","room":"lobby","password":"${REDACTED}"}`,
    );
  });

  it("pass the configured level and above", () => {
    expect(enabled("debug", "info")).toBe(false);
    expect(enabled("info", "info")).toBe(true);
    expect(enabled("error", "warn")).toBe(true);
    expect(enabled("warn", "error")).toBe(false);
  });
});

describe("the exporter", () => {
  it("posts pending spans as OTLP protobuf to <base>/v1/traces, and logs a failure once per batch", async () => {
    expect(tracesUrl("http://c:4318/")).toBe("http://c:4318/v1/traces");
    const bodies: { path: string; type: string; body: Buffer }[] = [];
    let status = 200;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        bodies.push({
          path: request.url ?? "",
          type: request.headers["content-type"] ?? "",
          body: Buffer.concat(chunks),
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const config = {
        ...telemetryConfig({}),
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: { "x-key": "k" },
      };
      const tracing = new Tracing(config);
      const root = scopeFrom(tracing)!;
      const parent = startSpan(root, "parent");
      startSpan(parent.scope, "child").span.end();
      parent.span.end();
      const sent: Promise<unknown>[] = [];
      tracing.export((work) => sent.push(work));
      await Promise.all(sent);
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toMatchObject({ path: "/v1/traces", type: "application/x-protobuf" });
      const spans = decodeTraceRequest(new Uint8Array(bodies[0]!.body));
      expect(spans.map((s) => s.name).sort()).toEqual(["child", "parent"]);
      const [child, top] = ["child", "parent"].map((n) => spans.find((s) => s.name === n)!);
      expect(child!.parentSpanId).toBe(top!.spanId);
      // Nothing pending: nothing sent.
      tracing.export((work) => sent.push(work));
      expect(sent).toHaveLength(1);

      status = 503;
      const warned = vi.spyOn(console, "warn").mockImplementation(() => {});
      startSpan(root, "a").span.end();
      startSpan(root, "b").span.end();
      const failed: Promise<unknown>[] = [];
      tracing.export((work) => failed.push(work));
      await expect(Promise.all(failed)).resolves.toBeDefined();
      expect(warned).toHaveBeenCalledTimes(1);
      expect(JSON.parse(String(warned.mock.calls[0]![0]))).toMatchObject({
        level: "warn",
        msg: "trace export failed",
        spans: 2,
        error: { message: "the collector answered 503" },
      });
    } finally {
      server.close();
    }
  });
});
