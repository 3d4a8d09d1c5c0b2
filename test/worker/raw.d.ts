/** Vite's `?raw` imports: a file's text (test/worker/graphql.test.ts reads schema.graphql). */
declare module "*?raw" {
  const text: string;
  export default text;
}
