#!/usr/bin/env node
// Formats Lua files with StyLua (its WebAssembly build from npm) and the settings in the
// repository's .stylua.toml. Usage: node tools/stylua.cjs [--check] FILE|DIR...
// --check writes nothing: it names each file whose formatting differs and exits 1 if any does.
"use strict";
const fs = require("fs");
const path = require("path");
const stylua = require("@johnnymorganz/stylua");

const ENUMS = {
  indent_type: stylua.IndentType,
  line_endings: stylua.LineEndings,
  quote_style: stylua.QuoteStyle,
  call_parentheses: stylua.CallParenType,
  collapse_simple_statement: stylua.CollapseSimpleStatement,
  space_after_function_names: stylua.SpaceAfterFunctionNames,
  block_newline_gaps: stylua.BlockNewlineGaps,
  syntax: stylua.LuaVersion,
};

// The subset of TOML that .stylua.toml uses: `key = "Value"`, `key = 4`, comments, blank lines.
function readConfig(file) {
  const config = stylua.Config.new();
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const m = line.match(/^([a-z_]+)\s*=\s*(?:"([^"]*)"|(\d+)|(true|false))$/);
    if (!m) throw new Error(`${file}:${i + 1}: cannot read "${raw}"`);
    const [, key, str, num, bool] = m;
    if (!(key in config)) throw new Error(`${file}:${i + 1}: unknown setting ${key}`);
    if (str !== undefined) {
      const values = ENUMS[key];
      if (!values || !(str in values)) throw new Error(`${file}:${i + 1}: bad value for ${key}`);
      config[key] = values[str];
    } else if (num !== undefined) {
      config[key] = Number(num);
    } else {
      config[key] = bool === "true";
    }
  });
  return config;
}

// The .lua files under a directory; a file named explicitly is taken whatever its name.
function luaFiles(target, out, named = true) {
  const stat = fs.statSync(target);
  if (stat.isDirectory()) {
    for (const name of fs.readdirSync(target).sort()) luaFiles(path.join(target, name), out, false);
  } else if (named || target.endsWith(".lua")) {
    out.push(target);
  }
  return out;
}

function main(argv) {
  const check = argv[0] === "--check";
  const targets = check ? argv.slice(1) : argv;
  if (targets.length === 0) {
    process.stderr.write("usage: stylua.cjs [--check] FILE|DIR...\n");
    return 2;
  }
  const settings = path.join(__dirname, "..", ".stylua.toml");
  readConfig(settings); // refuses a bad file before anything is written
  const files = targets.flatMap((t) => luaFiles(t, []));
  let differ = 0;
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    let formatted;
    try {
      // formatCode takes ownership of the Config it is given: one per file
      formatted = stylua.formatCode(source, readConfig(settings), null, stylua.OutputVerification.None);
    } catch (e) {
      process.stderr.write(`${file}: ${e}\n`);
      return 1;
    }
    if (formatted === source) continue;
    differ += 1;
    if (check) process.stdout.write(`${file}: not formatted (make format)\n`);
    else fs.writeFileSync(file, formatted);
  }
  if (check && differ > 0) {
    process.stdout.write(`${differ} of ${files.length} Lua files need formatting\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
