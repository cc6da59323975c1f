// check.js - the Node package, as installed in a project (packages.test).
//
// Loads cachier into a better-sqlite3 database with one call, memoizes
// slow_square twice and prints what packages.test checks, one
// "name value" line each.
'use strict';
const fs = require('fs');
const path = require('path');
const Database = require('better-sqlite3');
const cachier = require('sqlite-cachier');

const db = new Database('node.db');
cachier.load(db);
let calls = 0;
db.function('slow_square', (x) => { calls++; return x * x; });
const memo = db.prepare("SELECT memoize('slow_square', 12) AS v").pluck();
const first = memo.get();
const second = memo.get();
const stats = db.prepare("SELECT hits, misses FROM cachier_stats WHERE fn = 'slow_square'").get();
console.log('values', first, second);
console.log('calls', calls);
console.log('hits', stats.hits, 'misses', stats.misses);
console.log('version', db.prepare('SELECT cachier_version()').pluck().get(),
  require('sqlite-cachier/package.json').version);
// The extension comes from the project's node_modules, not the checkout.
const so = cachier.getLoadablePath();
console.log('path', path.dirname(so) === path.resolve('node_modules', 'sqlite-cachier'),
  fs.statSync(so).isFile());
db.close();
