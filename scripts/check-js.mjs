// Syntax-check the pages' scripts: every .js file under a package's static/ folder.
// Usage: node scripts/check-js.mjs [FILE ...]   (no files: all of them; exit 1 on an error)
//
// The pages load these as classic scripts (<script src>), so each is parsed the way the
// browser parses it, with vm.Script. Plain `node --check` would parse them as ES modules
// (package.json says "type": "module" for this build script), which accepts and refuses
// different things than a browser does for a classic script.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["satupintu", "kiosk", "display", "counter", "manager", "printer"];

function* walk(dir) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return; // a package without static files
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith(".js")) yield path;
  }
}

const files = process.argv.length > 2
  ? process.argv.slice(2)
  : PACKAGES.flatMap((pkg) => [...walk(join(root, pkg, "static"))]);
let failed = 0;
for (const file of files) {
  try {
    new Script(readFileSync(file, "utf8"), { filename: file });
  } catch (err) {
    failed += 1;
    console.error(`${relative(root, file)}: ${err.name}: ${err.message}`);
    if (err.stack) console.error(err.stack.split("\n").slice(0, 3).join("\n"));
  }
}
console.log(`checked ${files.length} scripts, ${failed} with errors`);
process.exit(failed ? 1 : 0);
