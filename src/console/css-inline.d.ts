/** Stylesheets imported as text (`?inline`: Vite, and the package build's esbuild plugin). */
declare module '*.css?inline' {
  const css: string;
  export default css;
}
