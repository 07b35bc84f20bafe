// Runs the Move unit tests of ../ (the daas package) offline: the real Sui Move
// compiler and VM, built to WASM (@zktx.io/sui-move-builder), with the `std` and
// `sui` dependencies answered from ./framework (test-only stand-ins, see its
// README). Exits 0 when every test passes, 1 otherwise.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { initMovePackageBuilder, testMovePackage } from "@zktx.io/sui-move-builder/full";

const here = fileURLToPath(new URL(".", import.meta.url));
const pkgRoot = join(here, "..");

function snapshot(root, dirs) {
  const files = {};
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".move") || name === "Move.toml") files[relative(root, path)] = readFileSync(path, "utf8");
    }
  };
  files["Move.toml"] = readFileSync(join(root, "Move.toml"), "utf8");
  for (const d of dirs) walk(join(root, d));
  return files;
}

const framework = {
  "move-stdlib": snapshot(join(here, "framework/move-stdlib"), ["sources"]),
  "sui-framework": snapshot(join(here, "framework/sui-framework"), ["sources"]),
};

// The builder asks for the framework as git fetches of
// crates/sui-framework/packages/<name>; answer from the stand-ins, refuse anything else.
const fetcher = {
  async fetch(_git, _rev, subdir) {
    const name = (subdir ?? "").split("/").pop();
    if (framework[name]) return framework[name];
    throw new Error(`no offline copy of dependency ${subdir}`);
  },
  async fetchFile() {
    return null;
  },
  getResolvedSha() {
    return "0".repeat(40);
  },
};

await initMovePackageBuilder();
const files = snapshot(pkgRoot, ["sources", "tests"]);
const result = await testMovePackage({ files, fetcher, network: "mainnet", ansiColor: false });
process.stdout.write(result.output ?? JSON.stringify(result, null, 2));
if (!result.passed) {
  if (result.error) console.error(result.error);
  process.exit(1);
}
