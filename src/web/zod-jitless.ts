import * as z from "zod";

/**
 * zod compiles object schemas with `new Function` when it may; to find out it tries once, and
 * under the page's CSP (no 'unsafe-eval') that try is reported as a `securitypolicyviolation`
 * even though zod catches it. Jitless, it never tries. Imported first by app.ts, before any
 * schema parses.
 */
z.config({ jitless: true });
