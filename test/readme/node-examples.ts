// The README's runnable Node examples: each ```js block that opens with `// <name>.mjs`, and the
// lines its `// →` comments promise. Run on the sources (test/readme/) and from the packed
// tarball under Node, Deno and Bun (test/package/).

export interface Example { name: string; code: string; expected: string[] }

/** Runnable examples of a README: their code, and the lines their `// →` comments promise, in order. */
export function nodeExamples(markdown: string): Example[] {
  return [...markdown.matchAll(/```js\n(\/\/ (\S+\.mjs)\n[\s\S]*?)```/g)].map(([, code, name]) => ({
    name,
    code,
    expected: [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trimEnd()),
  }));
}
