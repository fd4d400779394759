// Builds the dashboard into dist/: one bundled, minified script (the app with Polkadot.js and
// uPlot, nothing fetched from elsewhere at run time), its page and its styles. The gateway
// serves dist/ (`provena gateway run --dashboard dashboard/dist`).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

const started = Date.now();
const result = await build({
  entryPoints: [join(here, 'src', 'main.js')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'src', 'style.css'), join(dist, 'style.css'));
copyFileSync(join(here, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), join(dist, 'uplot.css'));
const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(`dashboard built into ${dist} (${(bytes / 1e6).toFixed(1)} MB with source maps) in ${Date.now() - started} ms`);
