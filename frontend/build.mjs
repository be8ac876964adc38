// The one build script: three entry points from shared components, bundled by esbuild.
import { build } from "esbuild";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const outdir = fileURLToPath(new URL("../src/relais/web/static/dist/", import.meta.url));

await build({
  entryPoints: { widget: "src/widget/index.ts", desk: "src/desk/index.ts" },
  outdir,
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`built widget.js and desk.js into ${relative(process.cwd(), outdir)}`);
