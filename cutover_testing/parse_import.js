'use strict';
// Imports a Parse export into a MongoDB database through the real parse-server's own code (test-only).
//
//   node parse_import.js plan.json
//
// plan: {databaseURI, appId, masterKey, classes: [{className, files: [...]}], relations: [{className, field,
// files: [...]}], extra: {className: {objectId: {storageField: value}}}}. The caller says which file is which:
// nothing here guesses a name. Each file holds {"results": [...]} or a bare array of REST-format objects.
//
// What a migration onto Parse Server does, by the server's own hands: new ParseServer(...).start() runs its
// startup on the empty database (DatabaseController.performInitialization: _User, _Role, _Idempotency and their
// indexes); each object is validated against the schema (adding its fields, as RestWrite does) and created
// with DatabaseController.create (ACL -> _rperm/_wperm, authData -> _auth_data_*, then MongoTransform: pointers,
// dates, files, sessionToken -> _session_token); each relation row is added with DatabaseController.addRelation.
// Parse's import format: a _User's "bcryptPassword" is its password hash (stored as _hashed_password, docs
// "Importing Data"); the Dashboard's "className" marker is not a field. "extra" holds storage fields the real
// database carried that the export does not show (a host's hashes).
const fs = require('fs');
const { ParseServer } = require('parse-server');
const Config = require('parse-server/lib/Config');

function objectsOf(file) {
  const body = JSON.parse(fs.readFileSync(file, 'utf8'));
  return Array.isArray(body) ? body : body.results;
}

async function importObject(db, className, exported, extra) {
  const { objectId, createdAt, updatedAt, bcryptPassword, sessionToken, ...fields } = exported;
  if (fields.className === className) delete fields.className;
  if (fields.__type === 'Object') delete fields.__type;
  const credentials = {};
  if (className === '_User' && bcryptPassword !== undefined) credentials._hashed_password = bcryptPassword;
  if (sessionToken !== undefined) credentials.sessionToken = sessionToken;
  await db.validateObject(className, { ...fields }, null, {});
  await db.create(className, { objectId, createdAt, updatedAt, ...fields, ...credentials,
                               ...((extra[className] || {})[objectId] || {}) });
}

async function main() {
  const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const server = new ParseServer({
    databaseURI: plan.databaseURI, appId: plan.appId, masterKey: plan.masterKey,
    serverURL: 'http://127.0.0.1:9/parse', logLevel: 'error', silent: true,
  });
  await server.start();
  const db = Config.get(plan.appId).database;
  let objects = 0, rows = 0;
  for (const { className, files } of plan.classes) {
    for (const file of files) {
      for (const exported of objectsOf(file)) {
        await importObject(db, className, exported, plan.extra || {});
        objects += 1;
      }
    }
  }
  for (const { className, field, files } of plan.relations) {
    for (const file of files) {
      for (const row of objectsOf(file)) {
        await db.addRelation(field, className, row.owningId, row.relatedId);
        rows += 1;
      }
    }
  }
  await db.adapter.handleShutdown();     // no HTTP server was started: close the database only
  process.stdout.write(JSON.stringify({ objects, rows }) + '\n');
}

main().then(() => process.exit(0), error => {
  process.stderr.write(`import failed: ${error && error.stack ? error.stack : JSON.stringify(error)}\n`);
  process.exit(1);
});
