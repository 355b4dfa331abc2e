#!/usr/bin/env node
// Runs in a published package's folder after `tsc` (its `build` script): plain Node, nothing to compile first.
//
// 1. VERSION: the literal '0.0.0-development' in dist/index.js becomes the package.json version (set at build time,
//    so nothing reads package.json at import and bundlers keep working).
// 2. ES modules: for every entry point in `exports`, an `.mjs` file that wraps the CommonJS build and re-exports its
//    names, with an `.d.mts` beside it. One copy of each module whatever format imports it: a package loaded through
//    `import` and through `require` in one process shares its state and its actions-core (no dual-package hazard).
'use strict'
const { existsSync, readFileSync, writeFileSync } = require('node:fs')
const { join, relative, basename } = require('node:path')

const directory = process.cwd()
const pkg = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'))
const fail = (message) => {
  process.stderr.write(`finish-build (${pkg.name}): ${message}\n`)
  process.exit(1)
}

const index = join(directory, 'dist', 'index.js')
const source = readFileSync(index, 'utf8')
const placeholder = "'0.0.0-development'"
const found = source.split(placeholder).length - 1
if (found !== 1) fail(`dist/index.js must hold ${placeholder} once (VERSION), found ${found}`)
writeFileSync(index, source.replace(placeholder, JSON.stringify(pkg.version)))

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
for (const [entry, conditions] of Object.entries(pkg.exports ?? {})) {
  if (entry === './package.json') continue
  const cjs = conditions.require?.default
  const mjs = conditions.import?.default
  const mts = conditions.import?.types
  if (!cjs || !mjs || !mts) fail(`exports["${entry}"] needs import.{types,default} and require.{types,default}`)
  if (!existsSync(join(directory, cjs))) fail(`${cjs} was not built`)
  // The names the CommonJS build exports, as Node itself would see them.
  const names = Object.keys(require(join(directory, cjs))).filter((name) => name !== 'default' && IDENTIFIER.test(name))
  const from = `./${basename(cjs)}`
  writeFileSync(join(directory, mjs), `import cjs from '${from}'\n\nexport const { ${names.join(', ')} } = cjs\n`)
  const declarations = `./${basename(conditions.require.types).replace(/\.d\.ts$/, '.js')}`
  writeFileSync(join(directory, mts), `export * from '${declarations}'\n`)
  process.stdout.write(`${pkg.name}: ${relative(directory, join(directory, mjs))} re-exports ${names.length} names\n`)
}
