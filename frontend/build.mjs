// The one build script: the entry points, from shared components, bundled by esbuild.
import { build } from "esbuild";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

const outdir = fileURLToPath(new URL("../src/relais/web/static/dist/", import.meta.url));

await build({
  entryPoints: {
    widget: "src/widget/index.ts",
    desk: "src/desk/index.ts",
    supervisor: "src/supervisor/index.ts",
  },
  outdir,
  bundle: true,
  format: "iife",
  target: "es2020",
  minify: true,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
});
console.log(`built widget.js, desk.js and supervisor.js into ${relative(process.cwd(), outdir)}`);
