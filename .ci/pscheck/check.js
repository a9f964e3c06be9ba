#!/usr/bin/env node
// PowerShell syntax check for CI.
//
// No Windows host is available where wsusfix is built, so the scripts in
// remote/scripts are parsed here with a real PowerShell grammar
// (tree-sitter-powershell, loaded as WebAssembly through web-tree-sitter:
// nothing is compiled or downloaded outside npm). A parse that contains an
// ERROR or MISSING node fails the check, with file:line:col for each.
//
// A grammar is not PowerShell itself: it catches unbalanced braces, quotes
// and parentheses, broken statements and the like, not every error the real
// parser reports, and nothing about behaviour.
//
// Usage:
//   node check.js FILE...          check files; exit 1 on any syntax error
//   node check.js --self-test      prove the check rejects testdata/broken.ps1
//                                  and accepts testdata/good.ps1
// Both may be combined. Exit 2 on a usage or I/O error.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

// V8 would recompile the grammar's huge lexer and parse-table functions with
// its optimising compiler in the background, which costs some ten seconds of
// CPU for files that parse in milliseconds. The baseline compiler is plenty.
// The flag must be set before any WebAssembly is compiled.
v8.setFlagsFromString('--liftoff-only');

const { Parser, Language } = require('web-tree-sitter');

async function newParser() {
  await Parser.init();
  const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

// syntaxErrors returns one message per ERROR or MISSING node. It descends
// only into subtrees that contain an error, and does not report the nodes
// inside an ERROR node, which would repeat the same problem.
function syntaxErrors(parser, source) {
  const tree = parser.parse(source);
  const found = [];
  const walk = (node) => {
    if (node.isError || node.isMissing) {
      const where = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
      const what = node.isMissing
        ? `missing ${node.type}`
        : `syntax error near ${JSON.stringify(node.text.split('\n')[0].slice(0, 60))}`;
      found.push(`${where}: ${what}`);
      return;
    }
    if (!node.hasError) return;
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return found;
}

// checkFiles prints each problem as file:line:col and returns how many files
// had errors.
function checkFiles(parser, files) {
  let bad = 0;
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    const errors = syntaxErrors(parser, source);
    if (errors.length > 0) {
      bad++;
      for (const e of errors) console.log(`${file}:${e}`);
    }
  }
  return bad;
}

function selfTest(parser) {
  const dir = path.join(__dirname, 'testdata');
  const broken = path.join(dir, 'broken.ps1');
  const good = path.join(dir, 'good.ps1');
  const brokenErrors = syntaxErrors(parser, fs.readFileSync(broken, 'utf8'));
  const goodErrors = syntaxErrors(parser, fs.readFileSync(good, 'utf8'));
  let ok = true;
  if (brokenErrors.length === 0) {
    console.log(`self-test: ${broken} was accepted but is broken`);
    ok = false;
  }
  if (goodErrors.length > 0) {
    console.log(`self-test: ${good} was rejected but is valid:`);
    for (const e of goodErrors) console.log(`  ${good}:${e}`);
    ok = false;
  }
  if (ok) {
    console.log(`self-test: ok (broken.ps1 rejected with ${brokenErrors.length} error(s), good.ps1 accepted)`);
  }
  return ok;
}

async function main(argv) {
  const wantSelfTest = argv.includes('--self-test');
  const files = argv.filter((a) => a !== '--self-test');
  const unknown = files.filter((a) => a.startsWith('--'));
  if (unknown.length > 0 || (!wantSelfTest && files.length === 0)) {
    console.error('usage: node check.js [--self-test] [FILE.ps1...]');
    return 2;
  }
  const parser = await newParser();
  if (wantSelfTest && !selfTest(parser)) return 1;
  if (files.length === 0) return 0;
  const bad = checkFiles(parser, files);
  if (bad > 0) {
    console.log(`PowerShell syntax: ${bad} of ${files.length} file(s) have errors`);
    return 1;
  }
  console.log(`PowerShell syntax: ${files.length} file(s) ok`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exitCode = 2; },
);
