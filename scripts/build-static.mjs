// Copy the browser builds of our npm dependencies into satupintu/static/vendor/.
// The pages load them from there: no CDN, so they work on a LAN with no internet.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "satupintu", "static", "vendor");
const files = {
  "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
  "qrcode.js": "qrcode-generator/dist/qrcode.js",
  "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
};

mkdirSync(out, { recursive: true });
for (const [name, source] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", source), join(out, name));
  console.log(`vendor: ${source} -> satupintu/static/vendor/${name}`);
}
