// The README's runnable Node examples: each ```js block that opens with `// <name>.mjs`, and the
// lines its `// → ` comments promise it prints, in order. Used on the sources (test/readme) and
// on the installed tarball (test/package).
export interface Example { name: string; code: string; expected: string[] }

export function nodeExamples(markdown: string): Example[] {
  return [...markdown.matchAll(/```js\n(\/\/ (\S+\.mjs)\n[\s\S]*?)```/g)].map(([, code, name]) => ({
    name,
    code,
    expected: [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => m[1].trimEnd()),
  }));
}
