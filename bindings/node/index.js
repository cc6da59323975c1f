// sqlite-cachier - the cachier SQLite extension for Node.
//
//   const Database = require('better-sqlite3');
//   const cachier = require('sqlite-cachier');
//   const db = new Database('app.db');
//   cachier.load(db);
//
// The package carries the extension built from the same checkout
// (cachier.so, Linux only); getLoadablePath() is its path, for clients
// other than better-sqlite3 (node:sqlite's loadExtension, the sqlite3
// package's db.loadExtension).
'use strict';

const fs = require('fs');
const path = require('path');

// The absolute path of the bundled extension. Its entry point is
// sqlite3_cachier_init, which SQLite finds from the file name.
function getLoadablePath() {
  const file = path.join(__dirname, 'cachier.so');
  if (!fs.existsSync(file)) {
    throw new Error('sqlite-cachier: ' + file + ' is missing: the package '
      + 'was packed without running `make bindings` in the cachier checkout');
  }
  return file;
}

// Load cachier into db, a better-sqlite3 Database (or anything with a
// loadExtension(path) method).
function load(db) {
  db.loadExtension(getLoadablePath());
}

module.exports = { getLoadablePath, load };
